"""The Streamlit face: the app shell, the building blocks of its pages, widgets, the server and the login gate."""
