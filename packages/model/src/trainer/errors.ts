/**
 * Settings or inputs the trainer can never train with (a schedule that does not fit the run, a batch
 * of the wrong shape, data shorter than one block, a snapshot taken under another plan): retrying
 * with the same inputs fails the same way, so a relay dead-letters it at once instead of retrying.
 */
export class TrainingSetupInvalid extends Error {
  override name = "TrainingSetupInvalid";
}
