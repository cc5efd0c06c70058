"""Decisions the two teams take together: agreed definitions, joint targets, review meetings, saved scenarios,
the audit log of every step, and who may act (identities, teams, roles). No Streamlit: the acting user is passed in."""
