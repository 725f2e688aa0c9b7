"""Areas: where an address lies. The postcode/house-number table (CBS's yearly "buurt, wijk en
gemeente per postcode en huisnummer"), its importer, and the address -> buurt lookup that households
and referrals are registered with."""
