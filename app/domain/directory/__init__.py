"""The sociale kaart: organisations, their services and where and when they are offered (HSDS 3.0)."""
