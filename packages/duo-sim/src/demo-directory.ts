/**
 * The demo directory: one user per help-desk situation. Other tests rely on these usernames and states.
 */
import { makeGroup, makeHardwareToken, makePhone, makeUser, makeWebAuthn } from './build.js';
import type { SimUser } from './types.js';

const STAFF = makeGroup('Staff');
const ENGINEERING = makeGroup('Engineering');
const CONTRACTORS = makeGroup('Contractors');

const T0 = 1_735_689_600; // 2025-01-01T00:00:00Z
const day = 86_400;

export function demoDirectory(): SimUser[] {
  return [
    makeUser({
      username: 'alice',
      realname: 'Alice Anders',
      email: 'alice.anders@example.com',
      aliases: { alias1: 'aanders' },
      groups: [STAFF],
      created: T0,
      last_login: T0 + 300 * day,
      phones: [makePhone('alice', 1, 'iphone', '+15555550101', '2025-11-20T09:15:02')],
    }),
    makeUser({
      username: 'bob',
      realname: 'Bob Brown',
      email: 'bob.brown@example.com',
      status: 'locked out',
      lockout_reason: 'Failed Attempts',
      groups: [STAFF, ENGINEERING],
      created: T0 + 2 * day,
      last_login: T0 + 310 * day,
      phones: [
        makePhone('bob', 1, 'android', '+15555550102', '2025-11-25T17:40:11'),
        makePhone('bob', 2, 'iphone', '+15555550112', '2025-11-26T08:02:45'),
      ],
    }),
    makeUser({
      username: 'carol',
      realname: 'Carol Chen',
      email: 'carol.chen@example.com',
      status: 'disabled',
      groups: [STAFF],
      created: T0 + 3 * day,
      last_login: T0 + 200 * day,
      phones: [makePhone('carol', 1, 'iphone', '+15555550103', '2025-07-19T12:00:00')],
    }),
    makeUser({
      username: 'dave',
      realname: 'Dave Diaz',
      email: 'dave.diaz@example.com',
      status: 'bypass',
      groups: [ENGINEERING],
      created: T0 + 4 * day,
      last_login: T0 + 320 * day,
      phones: [makePhone('dave', 1, 'android', '+15555550104', '2025-11-27T10:11:12')],
    }),
    makeUser({
      username: 'erin',
      realname: 'Erin Evans',
      email: 'erin.evans@example.com',
      status: 'locked out',
      lockout_reason: 'Not enrolled',
      groups: [CONTRACTORS],
      created: T0 + 5 * day,
    }),
    makeUser({
      username: 'frank',
      realname: 'Frank Fischer',
      email: 'frank.fischer@example.com',
      groups: [STAFF],
      created: T0 + 330 * day,
    }),
    makeUser({ username: 'grace', realname: 'Grace Garcia', groups: [CONTRACTORS], created: T0 + 331 * day }),
    makeUser({
      username: 'heidi',
      realname: 'Heidi Hoffmann',
      email: 'heidi.hoffmann@example.com',
      groups: [STAFF],
      created: T0 + 7 * day,
      last_login: T0 + 305 * day,
      phones: [makePhone('heidi', 1, 'sms-only', '+15555550108', '2025-10-02T14:30:00')],
    }),
    makeUser({
      username: 'ivan',
      realname: 'Ivan Ivanov',
      email: 'ivan.ivanov@example.com',
      groups: [STAFF],
      created: T0 + 8 * day,
      last_login: T0 + 290 * day,
      phones: [makePhone('ivan', 1, 'landline', '+15555550109', '2025-09-12T08:00:00')],
    }),
    makeUser({
      username: 'judy',
      realname: 'Judy Jones',
      email: 'judy.jones@example.com',
      groups: [ENGINEERING],
      created: T0 + 9 * day,
      last_login: T0 + 318 * day,
      phones: [makePhone('judy', 1, 'tablet', '', '2025-11-24T19:45:00')],
      tokens: [makeHardwareToken('judy', '123456789012')],
    }),
    makeUser({
      username: 'mallory',
      realname: 'Mallory Moore',
      email: 'mallory.moore@example.com',
      status: 'locked out',
      lockout_reason: 'Admin disabled',
      groups: [CONTRACTORS],
      created: T0 + 10 * day,
      last_login: T0 + 280 * day,
      tokens: [makeHardwareToken('mallory', '987654321098')],
      webauthncredentials: [makeWebAuthn('mallory', 'YubiKey 5C', T0 + 11 * day)],
    }),
    makeUser({
      username: 'niaj',
      realname: 'Niaj Nair',
      email: 'niaj.nair@example.com',
      notes: 'Managed by Entra ID sync; change details in the directory.',
      external_id: '6f1c2b9e-4a7d-4c1e-9b3a-2d5e8f0a1c3b',
      last_directory_sync: T0 + 330 * day,
      groups: [STAFF],
      created: T0 + 12 * day,
      last_login: T0 + 329 * day,
      phones: [makePhone('niaj', 1, 'android', '+15555550114', '2025-11-27T07:30:00')],
    }),
    makeUser({
      username: 'olivia',
      realname: 'Olivia Olsen',
      email: 'olivia.olsen@example.com',
      status: 'pending deletion',
      created: T0 + 13 * day,
      last_login: T0 + 100 * day,
      phones: [makePhone('olivia', 1, 'iphone', '+15555550115', '2025-04-11T11:11:11')],
    }),
    makeUser({
      username: 'peggy',
      realname: 'Peggy Park',
      email: 'peggy.park@example.com',
      groups: [STAFF],
      created: T0 + 14 * day,
      last_login: T0 + 325 * day,
      phones: [makePhone('peggy', 1, 'iphone', '+15555550116', '2025-11-26T16:20:00')],
      seedBypassCodes: 3,
    }),
    makeUser({
      username: 'trent',
      realname: 'Trent Turner',
      email: 'trent.turner@example.com',
      status: 'locked out',
      lockout_reason: 'Admin API disabled',
      groups: [CONTRACTORS],
      created: T0 + 15 * day,
      last_login: T0 + 250 * day,
      phones: [makePhone('trent', 1, 'android', '+15555550117', '2025-09-01T09:00:00')],
    }),
    makeUser({
      username: 'victor',
      realname: 'Victor Vega',
      email: 'victor.vega@example.com',
      groups: [ENGINEERING],
      created: T0 + 16 * day,
      last_login: T0 + 327 * day,
      phones: [makePhone('victor', 1, 'iphone', '+15555550118', '2025-11-27T13:37:00')],
      seedBypassCodes: 95,
    }),
    makeUser({
      username: 'walter',
      realname: 'Walter White',
      email: 'walter.white@example.com',
      status: 'locked out',
      lockout_reason: 'Failed Attempts',
      external_id: 'b7e4d1a2-9c3f-4e6b-8a1d-0f2e3c4b5a69',
      last_directory_sync: T0 + 330 * day,
      notes: 'Managed by Active Directory sync.',
      groups: [STAFF],
      created: T0 + 17 * day,
      last_login: T0 + 315 * day,
      phones: [makePhone('walter', 1, 'iphone', '+15555550119', '2025-11-26T22:10:00')],
    }),
  ];
}

export const DEMO_USERNAMES = demoDirectory().map((u) => u.username);

/** What each demo user is for: the help-desk situation it stands for (shown to people trying duo-desk out). */
export const DEMO_PURPOSES: Record<string, string> = {
  alice: 'active, one iPhone with Duo Push',
  bob: 'locked out after failed attempts, two phones: the unlock walk-through',
  carol: 'disabled',
  dave: 'in bypass status (no two-factor)',
  erin: 'not enrolled (locked out), has an email address: send the enrollment email',
  frank: 'active, no device yet, has an email address',
  grace: 'no device and no email address',
  heidi: 'SMS-only phone: no Duo Push',
  ivan: 'landline only: no Duo Push',
  judy: 'tablet and a hardware token',
  mallory: 'locked out by an administrator; hardware token and security key',
  niaj: 'synced from Entra ID: the directory owns the record',
  olivia: 'pending deletion',
  peggy: 'has 3 bypass codes to list and delete',
  trent: 'locked out: Admin API access disabled',
  victor: "has 95 bypass codes, near Duo's limit of 100",
  walter: 'locked out and synced from Active Directory',
};

/** The demo tenant's synced directories (duo-desk's DUO_DESK_DIRECTORIES names them in local mode). */
export const DEMO_DIRECTORIES = [
  { directory_key: 'DDENTRAIDEXAMPLE0001', name: 'Entra ID (example.com)', usernames: ['niaj'] },
  { directory_key: 'DDACTIVEDIRCORP00001', name: 'Active Directory (CORP)', usernames: ['walter'] },
] as const;
