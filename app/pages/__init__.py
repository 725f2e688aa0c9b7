"""Public web pages served by Wijkwerk. They read data only the way any browser can: from the public
GraphQL endpoint, over HTTP, with the persisted queries they ship (never domain services)."""
