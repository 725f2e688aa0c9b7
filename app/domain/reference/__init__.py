"""Reference lists that are configuration, not code: life domains (ZRM style) and themes.

Themes are shared by the case side (a household's recurring questions) and the public side (what an
initiative is about, a year plan's priorities): that shared list is what makes collectivisation work.
"""
