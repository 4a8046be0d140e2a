"""The window's widgets. They show models and call ``CaseSession`` verbs; no engine logic here."""
