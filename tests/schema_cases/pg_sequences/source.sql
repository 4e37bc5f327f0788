CREATE SEQUENCE order_number_seq START 1000 INCREMENT 10;
CREATE SEQUENCE document_id_seq AS integer MAXVALUE 100000 CYCLE;
CREATE TABLE invoices (id integer PRIMARY KEY DEFAULT nextval('document_id_seq'), note text);
CREATE TABLE credit_notes (id integer PRIMARY KEY DEFAULT nextval('document_id_seq'), note text);
CREATE TABLE tickets (id serial PRIMARY KEY, parent_id integer DEFAULT nextval('tickets_id_seq'));
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY 5) PRIMARY KEY);
