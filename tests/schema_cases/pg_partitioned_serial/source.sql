CREATE TABLE event (id bigserial, at timestamptz NOT NULL, kind text NOT NULL, PRIMARY KEY (id, at, kind))
  PARTITION BY RANGE (at);
CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
  PARTITION BY LIST (kind);
CREATE TABLE event_2024_click PARTITION OF event_2024 FOR VALUES IN ('click');
CREATE TABLE event_default PARTITION OF event DEFAULT;
CREATE INDEX event_default_kind ON event_default (kind);
CREATE SEQUENCE unused_seq;
