"""Who is asking: password checks, API bearer tokens and what each role may do."""
