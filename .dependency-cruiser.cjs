/**
 * The layout's rules (issue 10): what may import what. `npm run deps` checks them; a violation names its rule.
 * Type-only imports count too (tsPreCompilationDeps): a type from a layer is a dependency on that layer.
 * Cycles between folders are checked by the reporter, .dependency-cruiser-report.mjs (rule no-folder-cycles).
 * @type {import('dependency-cruiser').IConfiguration}
 */
const CORE = '^src/(domain|usecases|audit|jobs|duo|db)/';
const SLACK = '^(src/slack|commands|views)/';
const FAKES = '^packages/(slack-testbed|duo-sim)/';
/** Local mode's composition root: the only product code that may start the fakes. */
const LOCAL_ROOT = '^src/app/(local[^/]*|sandbox)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'core-not-to-slack-or-fakes',
      severity: 'error',
      comment:
        'The core (domain, use cases, audit, jobs, the Duo client, the database, the directory index) knows nothing ' +
        'of Slack: Slack words live in src/slack, commands/ and views/, which call the core, never the other way ' +
        'round. Nor does it know the fakes: tests and local mode put them at the edges.',
      from: { path: CORE },
      to: { path: [SLACK, '^packages/'] },
    },
    {
      name: 'domain-does-no-io',
      severity: 'error',
      comment:
        'src/domain is pure rules (roles, permissions, policies): it imports no module that does I/O - not the ' +
        'database, Duo, jobs, Slack or the audit trail, not the ORM or Slack SDKs, not node:fs/net/http/' +
        'child_process. Types the entities need (Role, statuses, approval states) are defined in the domain and ' +
        'imported by the entities.',
      from: { path: '^src/domain/' },
      to: {
        path: [
          '^src/(db|duo|jobs|slack|audit)/',
          '(^|/)node_modules/@(mikro-orm|slack)/',
          '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|dgram|tls)$',
        ],
      },
    },
    {
      name: 'no-file-cycles',
      severity: 'error',
      comment: 'No module reaches itself through its imports: a cycle means two files are one design in two places.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'fakes-only-from-local-mode',
      severity: 'error',
      comment:
        'The Slack stand-in and the Duo simulator are for local mode (src/app/local*.ts, src/app/sandbox.ts), ' +
        'tests and benchmarks only: the product must run where they are not installed.',
      from: { pathNot: [LOCAL_ROOT, '^test/', '^bench/', '^packages/'] },
      to: { path: FAKES },
    },
    {
      name: 'local-mode-loaded-lazily',
      severity: 'error',
      comment:
        'Production code reaches local mode only through import(), so starting for a real workspace never loads ' +
        'the fakes (local-directory.ts is plain data and may be imported).',
      from: { pathNot: [LOCAL_ROOT, '^test/', '^bench/'] },
      to: { path: '^src/app/(local|sandbox)\\.ts$', dynamic: false },
    },
    {
      name: 'fakes-stand-alone',
      severity: 'error',
      comment:
        'Each package under packages/ is self-contained: it imports neither the app (src, commands, views, test, ' +
        'bench) nor another package, so it can be tested, and left out, on its own.',
      from: { path: '^packages/([^/]+)/' },
      to: { path: ['^(src|commands|views|migrations|test|bench)/', '^packages/'], pathNot: '^packages/$1/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import the resolver cannot find would slip past every rule above: fix the path or the exports map.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(\\.data|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
