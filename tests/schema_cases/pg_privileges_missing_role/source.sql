GRANT CREATE, USAGE ON SCHEMA public TO ferry_src_app;
CREATE TABLE account (id bigint PRIMARY KEY, name text NOT NULL);
GRANT SELECT ON account TO ferry_src_reader;
ALTER TABLE account OWNER TO ferry_src_app;
