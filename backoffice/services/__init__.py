"""Use cases of the back office: routes call these, these call the domain and the database."""
