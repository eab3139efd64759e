CREATE TABLE `remote_write_queue` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`collected_at` integer NOT NULL,
	`enqueued_at` integer NOT NULL,
	`samples` integer NOT NULL,
	`body` blob NOT NULL
);
--> statement-breakpoint
CREATE INDEX `remote_write_queue_enqueued_at_idx` ON `remote_write_queue` (`enqueued_at`);