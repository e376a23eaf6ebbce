// The token lives in sessionStorage: it survives a reload of this tab and is gone when the tab closes.
const storageKey = 'gateway.token';

export function savedToken() {
  return sessionStorage.getItem(storageKey);
}

export function saveToken(token) {
  sessionStorage.setItem(storageKey, token);
}

export function forgetToken() {
  sessionStorage.removeItem(storageKey);
}

/** The token's exp as a Date, or null when it has none or is not a JWT (the gateway still decides). */
export function tokenExpiry(token) {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' ? new Date(exp * 1000) : null;
  } catch {
    return null;
  }
}

/** Why the gateway refused a token, in words a person can act on. */
export function refusalMessage(token, status) {
  const expiry = tokenExpiry(token);
  if (expiry && expiry <= new Date()) {
    return `This token expired at ${expiry.toISOString()}. Mint a new one: dotnet run --project src/Gateway.Server -- token create --user me --role admin`;
  }
  if (status === 403) {
    return 'The gateway accepted this token but it carries no gateway role (admin, dashboard or agent).';
  }
  return `The gateway refused this token (${status}). Check that it was minted by this gateway and pasted whole.`;
}
