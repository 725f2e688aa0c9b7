"""The informal network map of a household: the people around it (minimal data) and their support.

Not to be confused with the resident networks (*wijknetwerken*) of the initiatives context.
"""
