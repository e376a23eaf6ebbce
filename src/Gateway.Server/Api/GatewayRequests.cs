using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Server.Api;

internal static class GatewayRequests
{
    /// <summary>
    /// A request asking to switch protocols: a WebSocket over HTTP/1.1 (Upgrade) or HTTP/2 (extended CONNECT). Told by
    /// the server's features, not <c>HttpContext.WebSockets</c>: SignalR adds the WebSocket middleware inside its own
    /// endpoint, so outside it every request reads as not a WebSocket.
    /// </summary>
    public static bool IsUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;
}
