"""The Data page's building blocks: what was loaded (freshness), loading uploads with a status that says how it
went, and onboarding a new source in the browser: a file's drafted mapping as a form (each canonical column's
source, the draft's guess and its reason beside it, the reading settings the draft found), checked as
`tandem mapping check` checks it, saved and loaded, without anyone writing YAML.

The form's state is a `pipelines.mappings.Mapping`; its YAML is written only by the serializer the draft uses
(`mappings.yaml_text`). Ingestion (pandera, pandas) is imported when a file is drafted, checked or loaded,
never with the page. Text from the file (headers, cells, names) is shown through reports/safe_text.py."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from pipelines import mappings
from pipelines.freshness import freshness_sql
from pipelines.mappings import ColumnMap, Mapping, mapping_data, yaml_text
from reports import safe_text
from store.db import frame, reading
from store.errors import USAGE, TandemError
from store.exports import EXPORT_TYPES
from tandem import auth, runs, uploads, widgets

if TYPE_CHECKING:
    from pipelines.draft import Draft
    from pipelines.load import CheckResult

# --- what was loaded --------------------------------------------------------------------------------------


def freshness(db: Path) -> pl.DataFrame:
    """Per declared export type: rows, the date the data reaches, the last load (pipelines/freshness.py); a type
    declared since the last load (no table yet) shows no rows."""
    with reading(db) as con:
        tables = {name for (name,) in con.execute(  # tables and views (invoice lines are a view of their facts)
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        if "load_log" not in tables:  # a database no writer has prepared yet
            return pl.DataFrame()
        return frame(con, freshness_sql(tables))


# --- loading uploads, with a status ------------------------------------------------------------------------


def load(db: Path, files: Sequence[tuple[str, bytes]], export_type: str | None, mapping: str | Mapping | None,
         allow_partial: bool, encoding: str | None) -> None:
    """Validate and load the files (tandem/uploads.py, the rules of `tandem ingest`) under a status that ends
    on what happened: loaded, some files not loaded, or nothing loaded and the one sentence why. The outcome
    stays on the page for this session's next runs (another upload finishing reruns the page)."""
    with st.status(f"Loading {len(files)} file(s)…", expanded=True) as status:
        bar = st.progress(0.0, text="reading")

        def waiting() -> None:
            status.update(label="Waiting for another upload to finish…", state="running")
            bar.progress(0.0, text="waiting for another upload to finish")

        try:
            outcome = uploads.load(
                db, files, export_type, mapping, allow_partial, encoding,
                progress=lambda name, done, total: bar.progress(min(done / total, 1.0) if total else 0.0,
                                                                text=f"validating {safe_text.visible(name)}"),
                waiting=waiting)
        except TandemError as exc:  # the file is held, damaged, read-only or its disk full: one sentence
            status.update(label="Nothing loaded", state="error")
            st.text(safe_text.visible(exc.message))
            runs.stop()
        except Exception:  # anything else: the status never stays on "Loading…"; the error says the rest
            status.update(label="Nothing loaded", state="error")
            raise
        rejected = outcome.errors or any(r.outcome == "rejected" for r in outcome.results)
        label, state = ("Some files were not loaded", "error") if rejected else ("Loaded", "complete")
        status.update(label=label, state=state)
        messages = [safe_text.visible(m) for m in outcome.errors + outcome.failures]
        for message in messages:
            st.text(message)  # file names and values are data: plain text, controls shown
        widgets.table(outcome.table())
    st.session_state["last_upload"] = (label, state, messages, outcome.table())


def last_load() -> None:
    """The outcome of this session's last load, as it was shown."""
    if last := st.session_state.get("last_upload"):
        label, state, messages, table = last
        with st.status(label, state=state, expanded=True):
            for message in messages:
                st.text(message)
            widgets.table(table)


def text(value: str) -> str:
    """Text from a file for a Markdown element (a caption, a label): controls shown, Markdown and HTML inert."""
    return widgets.plain(str(safe_text.visible(value)))


# --- the form: a mapping as choices per canonical column ---------------------------------------------------

NOT_MAPPED = "— not mapped —"
CONSTANT = "a constant…"
DRAFTED = "as drafted"
THOUSANDS = {"": "none", ",": "comma (1,234)", ".": "dot (1.234)", " ": "space (1 234)",
             "\u00a0": "no-break space", "'": "apostrophe (1'234)"}
DECIMALS = {".": "dot (12.5)", ",": "comma (12,5)"}
DELIMITERS = {",": "comma (,)", ";": "semicolon (;)", "\t": "tab", "|": "pipe (|)"}
ENCODINGS = ["utf-8", "cp1252", "latin-1", "iso-8859-15", "utf-16", "utf-16-le", "utf-16-be", "mac-roman"]
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class Choice:
    """Where one canonical column comes from, as the form says: a column of the file, a constant, the draft's
    own derivation (an expression, a generated key, lines numbered, a due date from terms) or nothing; `text`
    is the constant, or the default for empty cells."""

    source: str
    text: str = ""


@dataclass(frozen=True)
class Reading:
    """How the file writes its values, for every column that does not say otherwise (the mapping's `parsing`
    and `empty`)."""

    decimal: str = "."
    thousands: str = ""
    symbols: tuple[str, ...] = ()
    codes: bool = False
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    empty: tuple[str, ...] = ()


def reading_of(m: Mapping) -> Reading:
    p = m.parsing
    return Reading(p.decimal_separator, p.thousands_separator, tuple(p.currency_symbols), p.currency_codes,
                   tuple(p.date_format), tuple(m.empty))


def derived(cm: ColumnMap | None) -> bool:
    """A source the form shows as the draft's, not as one column: several columns, an expression, a key."""
    return cm is not None and cm.value is None and (cm.from_ is None or len(cm.from_) != 1)


def choice_of(cm: ColumnMap | None, column: str, columns: Sequence[str]) -> Choice:
    """The form's choice for a column as the mapping has it (a column not named: a same-named file column)."""
    if cm is None:
        same = next((c for c in columns if mappings.normalise(c) == column), None)
        return Choice(same) if same is not None else Choice(NOT_MAPPED)
    if cm.value is not None:
        return Choice(CONSTANT, cm.value)
    if derived(cm):
        return Choice(DRAFTED, cm.default or "")
    assert cm.from_ is not None
    return Choice(cm.from_[0], cm.default or "")


def describe(cm: ColumnMap | None) -> str:
    """A column map in a few words: `from Betrag netto`, `the constant 'EUR'`, `Qty × Price`, ..."""
    if cm is None:
        return "not mapped"
    if cm.value is not None:
        return f"the constant {cm.value!r}"
    if cm.from_ is not None:
        return "from " + (cm.from_[0] if len(cm.from_) == 1 else ", else ".join(cm.from_))
    if cm.expr is not None:
        return f"computed: {cm.expr}"
    if cm.generate_key is not None:
        return f"a key made from {', '.join(cm.generate_key)}"
    if cm.number_within is not None:
        return f"lines numbered within each {', '.join(cm.number_within)}"
    if cm.after_supplier_terms is not None:
        return f"{cm.after_supplier_terms} + the supplier's payment terms"
    return "?"


def edited(base: Mapping, export_type: str, choices: dict[str, Choice], values: Reading, name: str | None = None
           ) -> Mapping:
    """The mapping the form says: `base` (the draft, its reading settings shared) with each canonical column
    from its choice and the file's reading settings. A column switched to another file column keeps how the
    draft read values (its own formats, placeholders). A sentence (TandemError) for what a mapping cannot say."""
    spec = EXPORT_TYPES[export_type]
    before = base.columns(export_type)
    columns: dict[str, ColumnMap] = {}
    for col in spec.columns:
        cm, choice = before.get(col.name), choices.get(col.name)
        if choice is None:
            if cm is not None:
                columns[col.name] = cm
            continue
        default = choice.text.strip() or None
        if choice.source == NOT_MAPPED:
            if not col.nullable:
                raise TandemError(f"{col.name} is required: choose the file's column it comes from, or a constant.",
                                  USAGE)
            continue
        if choice.source == CONSTANT:
            if default is None:
                raise TandemError(f"{col.name}: give the constant's value, or choose a column of the file.", USAGE)
            columns[col.name] = ColumnMap(value=default)
        elif choice.source == DRAFTED:
            if not derived(cm):
                raise TandemError(f"{col.name}: the draft has no derivation for it; choose a column.", USAGE)
            assert cm is not None
            columns[col.name] = cm.model_copy(update={"default": default})
        else:
            kept = cm.model_dump(by_alias=True, exclude_none=True, include=READING_KEYS) if cm is not None \
                and not derived(cm) and cm.value is None else {}
            columns[col.name] = ColumnMap.model_validate({"from": choice.source, **kept,
                                                         **({"default": default} if default else {})})
    parsing = base.parsing.model_copy(update={
        "decimal_separator": values.decimal, "thousands_separator": values.thousands,
        "currency_symbols": list(values.symbols), "currency_codes": values.codes,
        "date_format": list(values.date_formats) or ["%Y-%m-%d"]})
    exports = {**base.exports, export_type: base.exports[export_type].model_copy(update={"columns": columns})}
    data = base.model_copy(update={"parsing": parsing, "exports": exports, "empty": list(values.empty),
                                   "name": name or base.name})
    try:  # through the model's own checks: a separator that is two characters, a digit, ... is one sentence
        return Mapping.model_validate(mapping_data(data))
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError, said as the mapping file would
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            raise TandemError("The mapping is not valid: " + "; ".join(mappings._problem(e) for e in exc.errors()[:3])
                              + ".", USAGE) from None
        raise


READING_KEYS = {"date_format", "decimal_separator", "thousands_separator", "currency_symbols", "currency_codes",
                "empty"}


def mapping_yaml(d: Draft, base: Mapping, m: Mapping, who: str) -> str:
    """The mapping's YAML, by the draft's serializer: the draft's reasons above what is as drafted, a line saying
    what was set on the Data page above what was changed."""
    etype = d.export_type
    comments: dict[tuple[str, ...], list[str]] = {}
    for path, lines in d.comments.items():
        if path[:3] != ("exports", etype, "columns") or len(path) == 3:
            comments[path] = lines
    before, after = base.columns(etype), m.columns(etype)
    for col in EXPORT_TYPES[etype].columns:
        if col.name not in after:
            continue
        if after[col.name] == before.get(col.name):
            comments[("exports", etype, "columns", col.name)] = [f"{col.name}: {w}" for w in d.reasons[col.name]]
        else:
            comments[("exports", etype, "columns", col.name)] = [
                f"{col.name}: set on the Data page (the draft: {describe(before.get(col.name))})"]
    if m.parsing != mappings.Parsing():
        comments[("parsing",)] = ["How the file writes numbers and dates (found in its values, checked on the Data "
                                  "page); a column may say otherwise"]
    from pipelines.compile import source_columns

    read = set(source_columns(m, EXPORT_TYPES[etype]))
    unused = [c for c in d.columns if mappings.normalise(c) not in read]
    head = [line for line in d.head if not line.startswith("Not used:")]
    head += [*([f"Not used: {', '.join(unused)}"] if unused else []),
             f"Checked and saved on Tandem's Data page by {who}."]
    unmapped = [line for line in comments.get(("exports", etype, "columns"), [])[1:]
                if line.split(":")[0] not in after]
    comments[("exports", etype, "columns")] = ["Not mapped:", *unmapped] if unmapped else []
    return yaml_text(mapping_data(m), comments, head)


# --- the file, the draft and the check, kept for the session ---------------------------------------------


@dataclass
class Upload:
    """An uploaded file written once into this session's folder (never a path the browser chose)."""

    name: str
    path: Path
    key: str  # the upload's identity: a new upload of the same name is another file


def _folder() -> Path:
    held = st.session_state.get("_onboard_folder")
    if held is None:  # removed with the session's state (TemporaryDirectory cleans up when collected)
        held = st.session_state["_onboard_folder"] = tempfile.TemporaryDirectory(prefix="tandem-onboard-")
    return Path(held.name)


def stored(name: str, data: bytes, key: str) -> Upload:
    """The upload on disk in this session's folder, written once per upload."""
    folder = _folder() / hashlib.sha1(key.encode()).hexdigest()[:16]
    path = folder / Path(name).name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise TandemError(f"The upload could not be stored in the temporary folder {tempfile.gettempdir()} "
                              f"({exc.strerror or exc}); free some space there and try again.") from None
    return Upload(name, path, key)


def _kept(slot: str, key: tuple[Any, ...], make: Callable[[], Any], keep: int = 6) -> Any:
    """`make()` once per key in this session (a few kept: drafting and checking read the whole file)."""
    cache: dict[tuple[Any, ...], Any] = st.session_state.setdefault(slot, {})
    if key not in cache:
        while len(cache) >= keep:
            cache.pop(next(iter(cache)))
        cache[key] = make()
    return cache[key]


def draft_of(up: Upload, export_type: str | None, given: tuple[tuple[str, Any], ...] = ()) -> Draft:
    """The draft of an upload (pipelines/draft.py), with the reading settings the user gave instead of found."""
    from pipelines.draft import drafted
    from workspace.db import limits

    def make() -> Draft:
        return drafted(up.path, export_type, limits=limits(), **dict(given))

    return _kept("_onboard_drafts", (up.key, export_type, given), make)


def check_of(up: Upload, m: Mapping, export_type: str, rows: int = 20) -> CheckResult:
    """What the file would give under `m`: `tandem mapping check`'s result (nothing is loaded)."""
    from pipelines.load import check_file
    from workspace.db import limits

    text = yaml_text(mapping_data(m))
    return _kept("_onboard_checks", (up.key, export_type, text, rows),
                 lambda: check_file(up.path, m, export_type, None, rows, limits=limits()), keep=4)


# --- the page's onboarding section ------------------------------------------------------------------------


@dataclass
class Form:
    """What the form shows and reads: the draft, its mapping with shared reading settings, the widget keys."""

    draft: Draft
    base: Mapping
    prefix: str
    choices: dict[str, Choice] = field(default_factory=dict)


def onboard(db: Path, files: Sequence[Any], export_type: str | None) -> None:
    """The drafted mapping of the first uploaded file as a form; its check; save it, download it, load with it."""
    if not files:
        st.info("Upload a file of the new source above: Tandem drafts its mapping here, column by column.")
        return
    upload = files[0]
    if len(files) > 1:
        names = [f.name for f in files]
        pick = st.selectbox("Draft the mapping from", range(len(files)), format_func=lambda i: safe_text.visible(names[i]),
                            key="onb-file")
        upload = files[pick]
    up = stored(upload.name, upload.getvalue(), f"{upload.file_id}:{upload.name}:{upload.size}")
    try:
        d = _drafted(up, export_type)
    except TandemError as exc:
        st.text(safe_text.visible(exc.message))
        return
    from pipelines.draft import shared

    base = shared(d)
    form = Form(d, base, "onb-" + hashlib.sha1(repr((up.key, export_type, _given(d))).encode()).hexdigest()[:10])
    m = _form(form)
    if m is None:
        return
    _check(up, m, d.export_type)
    _save_and_load(db, files, form, m)


def _given(d: Draft) -> tuple[tuple[str, Any], ...]:
    s = d.sample
    return (("encoding", s.encoding), ("delimiter", s.delimiter), ("header_row", s.header_line), ("sheet", s.sheet))


def _drafted(up: Upload, export_type: str | None) -> Draft:
    """The draft, and the reading-the-file settings: changing one drafts again with it."""
    auto = draft_of(up, export_type)
    s = auto.sample
    st.markdown(f"**Drafted from {text(up.name)}** · {auto.sample.df.height:,} sample rows · export type "
                f"**{auto.export_type}**")
    st.caption(text(f"Export type {auto.type_why.replace('pass --type', 'choose Export type above')}."))
    st.markdown("**Reading the file**")
    cols = st.columns(3)
    given: dict[str, Any] = {}
    key = f"onbfile-{hashlib.sha1(up.key.encode()).hexdigest()[:10]}"
    if s.fmt == "csv":
        options = list(dict.fromkeys([s.encoding, *ENCODINGS]))
        enc = cols[0].selectbox("Encoding", options, key=f"{key}-encoding", help=text(
            s.notes.get("encoding") or "The file reads as UTF-8."))
        delims = list(dict.fromkeys([s.delimiter or ",", *DELIMITERS]))
        sep = cols[1].selectbox("Delimiter", delims, format_func=lambda c: DELIMITERS.get(c, repr(c)),
                                key=f"{key}-delimiter")
        given |= {"encoding": enc} if enc != s.encoding else {}
        given |= {"delimiter": sep} if sep != s.delimiter else {}
    else:
        sheets = list(s.sheets or [s.sheet or ""])
        sheet = cols[0].selectbox("Sheet", sheets, index=sheets.index(s.sheet) if s.sheet in sheets else 0,
                                  format_func=safe_text.visible, key=f"{key}-sheet", help=text(s.notes.get("sheet", "")) or None)
        given |= {"sheet": sheet} if sheet != s.sheet else {}
    line = cols[2].number_input("Header on line", 1, mappings.MAX_PREAMBLE + 1, s.header_line, key=f"{key}-header",
                                help=text(s.notes.get("header_row", "The header is the first line.")))
    given |= {"header_row": int(line)} if line != s.header_line else {}
    if not given:
        return auto
    return draft_of(up, export_type, tuple(sorted(given.items())))


def _form(form: Form) -> Mapping | None:
    """The form: how values are written, then where each canonical column comes from, the draft's guess and its
    reason beside it. Returns the mapping it says (None, with the sentence shown, when it cannot say one)."""
    d, base, k = form.draft, form.base, form.prefix
    etype, spec = d.export_type, EXPORT_TYPES[d.export_type]
    r = reading_of(base)
    with st.form(f"{k}-form", border=True):
        st.markdown("**Reading values** (the draft found these in the file's values)")
        a, b, c, e = st.columns([1, 1, 1, 1])
        decimal = a.selectbox("Decimal separator", list(dict.fromkeys([r.decimal, *DECIMALS])),
                              format_func=lambda x: DECIMALS.get(x, repr(x)), key=f"{k}-decimal")
        thousands = b.selectbox("Thousands separator", list(dict.fromkeys([r.thousands, *THOUSANDS])),
                                format_func=lambda x: THOUSANDS.get(x, repr(x)), key=f"{k}-thousands")
        symbols = c.text_input("Currency symbols", " ".join(r.symbols), key=f"{k}-symbols",
                               help="Marks written before or after amounts (`$`, `€`, `kr`), separated by spaces.")
        codes = e.checkbox("Currency codes in amounts", r.codes, key=f"{k}-codes",
                           help="Amounts carry a three-letter code (`1,317,169.92 CAD`); a code that is not the "
                                "row's currency quarantines the row.")
        from pipelines.draft import DATE_FORMATS

        f1, f2 = st.columns(2)
        formats = f1.multiselect("Date formats (tried in order)", list(dict.fromkeys([*r.date_formats, *DATE_FORMATS])),
                                 list(r.date_formats), key=f"{k}-dates", accept_new_options=True)
        empty = f2.multiselect("Texts read as an empty cell", list(r.empty), list(r.empty), format_func=safe_text.visible,
                               key=f"{k}-empty", accept_new_options=True)
        st.markdown("**Columns** · where each of Tandem's columns comes from")
        head = st.columns(COLUMN_WIDTHS)
        for h, label in zip(head, ("Tandem column", "From the file", "Constant, or default when empty",
                                   "The draft's guess and why"), strict=True):
            h.caption(label)
        sources = [*d.columns]
        cms = base.columns(etype)
        for col in spec.columns:
            form.choices[col.name] = _row(col, cms.get(col.name), sources, d.reasons.get(col.name, []), k)
        st.form_submit_button("Check the mapping", type="primary", icon=":material/fact_check:")
    values = Reading(decimal, thousands, tuple(symbols.split()), codes, tuple(formats), tuple(empty))
    try:
        return edited(base, etype, form.choices, values)
    except TandemError as exc:
        st.error(safe_text.visible(exc.message))
        return None


COLUMN_WIDTHS = [2, 3, 2, 5]


def _row(col: Any, cm: ColumnMap | None, sources: list[str], why: list[str], k: str) -> Choice:
    """One canonical column's row: its name and type, the source chosen, a constant or default, the draft's
    guess and its reasons."""
    start = choice_of(cm, col.name, sources)
    options = [NOT_MAPPED, *sources, CONSTANT, *([DRAFTED] if derived(cm) else [])]
    labels = {NOT_MAPPED: NOT_MAPPED, CONSTANT: CONSTANT, DRAFTED: f"{DRAFTED}: {describe(cm)}"}
    name, pick, value, guess = st.columns(COLUMN_WIDTHS, vertical_alignment="center")
    name.markdown(f"`{col.name}` :gray[{col.type}{'' if col.nullable else ', required'}]")
    source = pick.selectbox(f"Source of {col.name}", options, options.index(start.source),
                            format_func=lambda o: safe_text.visible(labels.get(o, o)), key=f"{k}-from-{col.name}",
                            label_visibility="collapsed")
    said = value.text_input(f"Constant or default of {col.name}", start.text, key=f"{k}-text-{col.name}",
                            label_visibility="collapsed", placeholder="constant" if source == CONSTANT else "default")
    # the YAML marks what to check "TODO" (grep-able in a file); on the page it says so in words
    reasons = "; ".join(w.replace("TODO: ", "to check: ") for w in why if w) or "no guess"
    guess.caption(text(f"{describe(cm)} — {reasons}"))
    return Choice(source, said or "")


def _check(up: Upload, m: Mapping, export_type: str) -> None:
    """The check of the whole file under the form's mapping, as `tandem mapping check` shows it."""
    from pipelines.quarantine import failure_sentence

    st.markdown("**Check** · the whole file read with this mapping; nothing is loaded")
    try:
        r = check_of(up, m, export_type)
    except TandemError as exc:
        st.error(safe_text.visible(exc.message))
        return
    a, b, c, e = st.columns(4)
    a.metric("Rows read", f"{r.rows_read:,}")
    b.metric("Would load", f"{r.rows_valid:,}")
    c.metric("Would be quarantined", f"{r.rows_invalid:,}")
    e.metric("Left out on purpose", f"{r.rows_filtered:,}")
    for note in r.notes:
        st.text(safe_text.visible(f"{r.file}: {note}"))
    if r.filter_note:
        st.text(safe_text.visible(r.filter_note))
    st.caption(f"The first {r.preview.height} rows as mapped, and every rule they break:")
    widgets.table(r.preview)
    for row in r.failures.iter_rows(named=True):
        st.text(safe_text.visible(failure_sentence(r.file, row)))


def _save_and_load(db: Path, files: Sequence[Any], form: Form, m: Mapping) -> None:
    """Save the mapping (into pipelines/mappings/ when the user may write there, else as a download), then load
    the uploaded files with it."""
    st.markdown("**Save and load**")
    me = auth.current_user()
    who = "a local user" if me is None else (me.email or me.name)
    name_col, save_col, down_col = st.columns([2, 1, 1], vertical_alignment="bottom")
    name = name_col.text_input("Mapping name", _name_of(form.base.name), key=f"{form.prefix}-name",
                               help="Lower-case letters, digits, - and _: the file pipelines/mappings/<name>.yaml.")
    if not NAME.fullmatch(name):
        st.error("A mapping name is lower-case letters, digits, - and _ (at most 64), starting with a letter or digit.")
        return
    m = m.model_copy(update={"name": name})
    body = mapping_yaml(form.draft, form.base, m, who)
    down_col.download_button("Download YAML", body.encode("utf-8"), file_name=f"{name}.yaml",
                             mime="application/x-yaml", on_click="ignore", icon=":material/download:",
                             key=f"{form.prefix}-download")
    folder = mappings.MAPPINGS_DIR
    if auth.can("upload") and os.access(folder, os.W_OK):
        if save_col.button("Save mapping", icon=":material/save:", key=f"{form.prefix}-save"):
            _save(folder / f"{name}.yaml", body, form.prefix)
    else:
        save_col.caption("Saving into pipelines/mappings/ needs the editor role and a writable folder: download it.")
    if (saved := st.session_state.get("_onboard_saved_note")) and saved[0] == form.prefix:
        st.success(saved[1])
    allow = st.checkbox("Load the valid rows of a file with invalid rows (--allow-partial)", key=f"{form.prefix}-partial")
    if st.button(f"Load {len(files)} file(s) with this mapping", type="primary", icon=":material/upload:",
                 key=f"{form.prefix}-load"):
        load(db, [(f.name, f.getvalue()) for f in files], form.draft.export_type, m, allow, None)
        st.session_state["_onboard_loaded"] = form.prefix
    elif st.session_state.get("_onboard_loaded") == form.prefix:
        last_load()


def _name_of(drafted: str) -> str:
    """A mapping name from the draft's (the file's stem): lower-case letters, digits, - and _."""
    return re.sub(r"[^a-z0-9_-]+", "_", drafted.lower()).strip("_-")[:64] or "mapping"


def _save(path: Path, body: str, prefix: str) -> None:
    """Write the mapping, never over one this session did not write (the bundled ones, a colleague's)."""
    mine: set[str] = st.session_state.setdefault("_onboard_written", set())
    if path.exists() and str(path) not in mine:
        st.session_state["_onboard_saved_note"] = None
        st.error(f"A mapping named {path.stem} exists already; choose another name.")
        return
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)  # whole or not at all: a reader never sees half a mapping
    mine.add(str(path))
    st.session_state["_onboard_saved_note"] = (prefix,
        f"Saved as pipelines/mappings/{path.name}: choose {path.stem} under Source mapping next time, or "
        f"`tandem ingest FILE --mapping {path.stem}`.")


__all__ = ["Choice", "Reading", "choice_of", "describe", "edited", "freshness", "load", "mapping_yaml", "onboard"]
