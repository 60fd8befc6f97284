import type { MethodContext, MethodSpec } from './method-context.js';
import type { Json } from './types.js';

function authTest({ store }: MethodContext): Json {
  const ws = store.ws;
  const bot = store.user(ws.botUserId);
  return {
    url: `https://${ws.teamDomain}.slack.com/`,
    team: ws.teamName,
    user: bot?.name ?? 'duo-desk',
    team_id: ws.teamId,
    user_id: ws.botUserId,
    bot_id: ws.botId,
    app_id: ws.appId,
    is_enterprise_install: false,
    ...(ws.enterpriseId ? { enterprise_id: ws.enterpriseId } : {}),
  };
}

function connectionsOpen({ openSocketUrl }: MethodContext): Json {
  return { url: openSocketUrl() };
}

export const appMethods: Record<string, MethodSpec> = {
  'auth.test': { handler: authTest, token: 'any', read: true },
  'apps.connections.open': { handler: connectionsOpen, token: 'app' },
};
