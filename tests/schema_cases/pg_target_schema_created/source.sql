CREATE TYPE status AS ENUM ('open', 'closed');
CREATE TABLE account (id bigint PRIMARY KEY, name text NOT NULL, state status NOT NULL);
CREATE TABLE invoice (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES account (id), total numeric(12,2));
