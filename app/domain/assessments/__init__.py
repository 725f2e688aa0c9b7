"""Self-sufficiency assessments (ZRM style): 1-5 per life domain, per member or household, dated.

The 80-20-5 tier is derived from the latest score per domain (``rules.py``), never typed in.
"""
