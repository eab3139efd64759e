CREATE TABLE `remote_write_shapes` (
	`id` integer PRIMARY KEY NOT NULL,
	`body` blob NOT NULL
);
--> statement-breakpoint
ALTER TABLE `remote_write_queue` ADD `shape_id` integer;--> statement-breakpoint
CREATE INDEX `remote_write_queue_shape_id_idx` ON `remote_write_queue` (`shape_id`);