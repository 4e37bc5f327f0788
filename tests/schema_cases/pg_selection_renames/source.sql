CREATE TABLE app_user (id integer PRIMARY KEY, uname varchar(30) NOT NULL UNIQUE, password_hash text);
CREATE TABLE app_login (id integer PRIMARY KEY, user_id integer REFERENCES app_user (id), at timestamptz);
CREATE TABLE tmp_junk (x int);
