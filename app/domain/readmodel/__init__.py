"""The read model: the team app's hot reads, answered as ready-made JSON by PostgreSQL.

The busiest screens (the household list, the household overview) are one statement each: the access
check (the same rule as everywhere, ``households.access``, compiled with the worker as a parameter),
the access-log row (``unit_of_work.access_log.inline_cte``) and the JSON document, in one round trip,
sent as the bytes PostgreSQL made. No ORM objects, no pydantic on the way out; a test validates each
document against its response model, and timestamps are written by one formatter (``sql.iso_utc``),
the way pydantic writes them.

It reads across contexts (households, plans, the support network, referrals), so it sits above them;
the write side never imports it. Statements are compiled once (``app.db.RawStatement``) and run
through the request's unit of work (``UnitOfWork.fetch_one``).
"""
