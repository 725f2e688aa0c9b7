"""The unit of work: one transaction and the records every piece of work leaves behind.

A request (or one step of a job) does its work through one ``UnitOfWork`` (``work.py``): it opens the
session, collects the access-log entries of the request (``access_log.py``), the change-feed records
that offline sync reads (``change_feed.py``) and the domain events whose handlers other contexts
register (``events.py``), and writes them with the work, in one transaction, committed once.

What flows "upwards" (which entities sync to phones, which sections a subject-access export has,
who handles an event) is declared by each context as data and put together in one composition root,
``app.bootstrap``, as a ``Wiring`` (``wiring.py``) that every unit of work carries.

This package sits below every domain context and imports none of them.
"""
