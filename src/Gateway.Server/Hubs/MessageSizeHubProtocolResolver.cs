using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Gateway.Contracts;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Gateway.Server.Hubs;

/// <summary>
/// Gives a connection closed for a message over <c>Limits:MaxMessageBytes</c> the gateway's code. SignalR closes it with
/// its own InvalidDataException, whose text reaches the client only with detailed errors, which are on in Development
/// only; a <see cref="HubException"/>'s text always does. SignalR hands a protocol at most the limit's bytes, so a
/// message that fails to parse with that many at hand is larger than the limit: the protocol says so with a
/// <c>message_too_large</c> hub error, and SignalR closes the connection with that text.
/// </summary>
/// <remarks>Decorates whatever resolver is registered; every protocol it resolves is wrapped once.</remarks>
internal sealed class MessageSizeHubProtocolResolver : IHubProtocolResolver
{
    private readonly IHubProtocolResolver _inner;
    private readonly Dictionary<IHubProtocol, IHubProtocol> _wrapped = new(ReferenceEqualityComparer.Instance);

    public MessageSizeHubProtocolResolver(IHubProtocolResolver inner, long maxMessageBytes)
    {
        _inner = inner;
        foreach (var protocol in inner.AllProtocols)
        {
            _wrapped[protocol] = new SizeLimitedProtocol(protocol, maxMessageBytes);
        }

        AllProtocols = [.. _wrapped.Values];
    }

    public IReadOnlyList<IHubProtocol> AllProtocols { get; }

    public IHubProtocol? GetProtocol(string protocolName, IReadOnlyList<string>? supportedProtocols) =>
        _inner.GetProtocol(protocolName, supportedProtocols) is { } protocol
            ? _wrapped.GetValueOrDefault(protocol, protocol)
            : null;

    private sealed class SizeLimitedProtocol(IHubProtocol inner, long maxMessageBytes) : IHubProtocol
    {
        public string Name => inner.Name;

        public int Version => inner.Version;

        public TransferFormat TransferFormat => inner.TransferFormat;

        public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
        {
            if (inner.TryParseMessage(ref input, binder, out message))
            {
                return true;
            }

            return input.Length >= maxMessageBytes
                ? throw new HubException(
                    $"{HubErrorCodes.MessageTooLarge}: a message was larger than the maximum message size of {maxMessageBytes} bytes (Limits:MaxMessageBytes)")
                : false;
        }

        public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => inner.WriteMessage(message, output);

        public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => inner.GetMessageBytes(message);

        public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);
    }
}
