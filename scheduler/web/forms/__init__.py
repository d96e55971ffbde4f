"""Flask-WTF forms of the pages: each checks its own input shape; rules stay in the domain."""
