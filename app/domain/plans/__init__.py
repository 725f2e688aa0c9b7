"""The household plan (*gezinsplan*): one active version per household, goals per life domain and
actions with a performer (the household, the informal network, a volunteer, a worker, a partner)."""
