CREATE TABLE `Order` (`Select` int PRIMARY KEY, `UserName` varchar(40), `Ünïcode` text, `group` int);
CREATE TABLE `naïve_表` (`id` int PRIMARY KEY, `OrderRef` int, CONSTRAINT `FK_Order` FOREIGN KEY (`OrderRef`) REFERENCES `Order` (`Select`));
