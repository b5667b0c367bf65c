-- The dashboard lists payments newest first (the primary key, walked backwards) and filters
-- them by merchant: this index is over the very expression the listing names, so a filter by
-- Client-Id is an index range however many payments there are.
CREATE INDEX payments_by_client ON payments (json_extract(doc, '$.clientId'), id);
