CREATE TABLE account (id integer PRIMARY KEY, email text NOT NULL, deleted boolean NOT NULL DEFAULT false, tags text[]);
CREATE UNIQUE INDEX account_email_live ON account (lower(email)) WHERE NOT deleted;
CREATE INDEX account_tags ON account USING gin (tags);
CREATE INDEX account_deleted_email ON account (deleted, email);
