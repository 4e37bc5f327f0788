CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE person (id integer PRIMARY KEY, current mood NOT NULL DEFAULT 'ok', history mood[]);
