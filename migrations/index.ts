import { Migration20261128000100_core } from './Migration20261128000100_core.js';
import { Migration20261128000200_audit } from './Migration20261128000200_audit.js';
import { Migration20261201000100_job_lease } from './Migration20261201000100_job_lease.js';
import { Migration20261201000300_keyed_audit } from './Migration20261201000300_keyed_audit.js';
import { Migration20261201000400_hardening } from './Migration20261201000400_hardening.js';
import { Migration20261201000500_approvals } from './Migration20261201000500_approvals.js';
import { Migration20261201000600_refusals } from './Migration20261201000600_refusals.js';
import { Migration20261202000100_device_confirmation } from './Migration20261202000100_device_confirmation.js';
import { Migration20261203000100_duo_settings } from './Migration20261203000100_duo_settings.js';
import { Migration20261204000100_users_overview } from './Migration20261204000100_users_overview.js';

/**
 * Static list, so the same code applies migrations under tsx, vitest and compiled JS
 * (folder discovery makes Node load .ts files itself, which fails outside tsx).
 * Add each new migration here.
 */
export const migrationsList = [
  { name: 'Migration20261128000100_core', class: Migration20261128000100_core },
  { name: 'Migration20261128000200_audit', class: Migration20261128000200_audit },
  { name: 'Migration20261201000100_job_lease', class: Migration20261201000100_job_lease },
  { name: 'Migration20261201000300_keyed_audit', class: Migration20261201000300_keyed_audit },
  { name: 'Migration20261201000400_hardening', class: Migration20261201000400_hardening },
  { name: 'Migration20261201000500_approvals', class: Migration20261201000500_approvals },
  { name: 'Migration20261201000600_refusals', class: Migration20261201000600_refusals },
  { name: 'Migration20261202000100_device_confirmation', class: Migration20261202000100_device_confirmation },
  { name: 'Migration20261204000100_users_overview', class: Migration20261204000100_users_overview },
  { name: 'Migration20261203000100_duo_settings', class: Migration20261203000100_duo_settings },
];
