"""The claims suite's machinery: the catalog of claims (catalog), what each claim test measured and its
verdict (record), declared checks and the driver that runs them on an experiment and its controls
(checks), the `claim` fixture's object (claim), the runs a session reads (runs), the session's options
and state (options, session), the progress of long sessions (progress), pytest-html's columns
(html_columns) and the pytest plugin, hooks only (plugin)."""
