CREATE SCHEMA "Sales app";

CREATE TYPE "Sales app".status AS ENUM ('open', 'closed');

CREATE TABLE "Sales app".account (
	id bigint NOT NULL, 
	name text NOT NULL, 
	state "Sales app".status NOT NULL, 
	CONSTRAINT account_pkey PRIMARY KEY (id)
);

CREATE TABLE "Sales app".invoice (
	id bigint NOT NULL, 
	account_id bigint NOT NULL, 
	total numeric(12,2), 
	CONSTRAINT invoice_pkey PRIMARY KEY (id)
);

ALTER TABLE "Sales app".invoice ADD CONSTRAINT invoice_account_id_fkey FOREIGN KEY(account_id) REFERENCES "Sales app".account (id);

