"""What Tandem hands out: the review pack (HTML, PDF) and deck (PPTX), CSV/XLSX exports, chart figures and images,
number formats and text made safe for every renderer. Usable without Streamlit (the CLI writes packs)."""
