"""Who is asking, in one place: passwords and staff sign-ins, API bearer tokens and what each
role may do (the domain); ``web`` signs staff in to the pages and ``api`` authenticates
/api requests by bearer token (the two adapters)."""
