CREATE TABLE album (
	id int AUTO_INCREMENT NOT NULL, 
	artist_id int NOT NULL, 
	tag varchar(255), 
	title varchar(255) NOT NULL, 
	price decimal(10,2) DEFAULT (9.99), 
	rating double, 
	explicit tinyint(1) NOT NULL DEFAULT 0, 
	released datetime(6), 
	cover longblob, 
	weight double, 
	plays bigint, 
	extra longtext, 
	PRIMARY KEY (id), 
	CONSTRAINT album_artist_title UNIQUE (artist_id, title)
);

CREATE TABLE artist (
	id int AUTO_INCREMENT NOT NULL, 
	name varchar(120) NOT NULL, 
	born date, 
	PRIMARY KEY (id)
);

CREATE TABLE tag (
	code varchar(255) NOT NULL, 
	label longtext, 
	PRIMARY KEY (code)
);

CREATE INDEX album_title ON album (title);

ALTER TABLE album ADD FOREIGN KEY(tag) REFERENCES tag (code);

ALTER TABLE album ADD FOREIGN KEY(artist_id) REFERENCES artist (id);

