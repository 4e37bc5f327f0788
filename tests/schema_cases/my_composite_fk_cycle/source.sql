CREATE TABLE team (id int PRIMARY KEY, captain_id int, KEY (captain_id));
CREATE TABLE player (id int PRIMARY KEY, team_id int, CONSTRAINT player_team FOREIGN KEY (team_id) REFERENCES team (id));
ALTER TABLE team ADD CONSTRAINT team_captain FOREIGN KEY (captain_id) REFERENCES player (id);
CREATE TABLE season (league char(3) NOT NULL, year smallint NOT NULL, PRIMARY KEY (league, year));
CREATE TABLE fixture (id int PRIMARY KEY, league char(3) NOT NULL, year smallint NOT NULL,
  CONSTRAINT fixture_season FOREIGN KEY (league, year) REFERENCES season (league, year) ON DELETE CASCADE);
