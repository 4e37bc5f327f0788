-- Roles belong to the server, which every case shares: made once, and given to this database's
-- owner (the role the case runs as), who may then hand objects to them.
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['ferry_src_app', 'ferry_src_reader', 'ferry_dst_app', 'ferry_dst_reader',
                           'ferry_auditor'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I', r);
    END IF;
    EXECUTE format('GRANT %I TO %I', r,
                   (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()));
  END LOOP;
END
$$;
