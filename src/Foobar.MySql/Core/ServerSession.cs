using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Foobar.MySql.Auth;
using Foobar.MySql.Protocol;
using Foobar.MySql.Protocol.Payloads;
using Foobar.MySql.Protocol.Serialization;
using Foobar.MySql.Transport;

namespace Foobar.MySql.Core;

/// <summary>
/// One connection to the server: opens it (TCP, TLS, authentication), sends commands and reads
/// their responses. Not thread-safe; owned by one <see cref="MySqlConnection"/> at a time.
/// </summary>
internal sealed class ServerSession : IAsyncDisposable
{
    /// <summary>utf8mb4_general_ci: every string travels as UTF-8, whatever the server's default.</summary>
    private const byte Utf8Mb4Collation = 45;

    private const int MaxAllowedPacket = 1 << 30;

    /// <summary>Adds last_gtid to the tracked session variables, so every commit's OK carries its GTID.</summary>
    private const string TrackGtidStatement = "SET session_track_system_variables = CONCAT(@@session_track_system_variables, ',last_gtid')";

    private const CapabilityFlags ClientCapabilities =
        CapabilityFlags.LongPassword | CapabilityFlags.FoundRows | CapabilityFlags.LongFlag | CapabilityFlags.Protocol41
        | CapabilityFlags.Transactions | CapabilityFlags.SecureConnection | CapabilityFlags.MultiStatements
        | CapabilityFlags.MultiResults | CapabilityFlags.PsMultiResults | CapabilityFlags.PluginAuth
        | CapabilityFlags.PluginAuthLengthEncodedClientData | CapabilityFlags.SessionTrack | CapabilityFlags.DeprecateEof
        | CapabilityFlags.ConnectAttributes;

    private readonly MySqlConnectionStringBuilder _settings;
    private readonly PayloadWriter _writer = new();
    private PacketStream? _packets;
    private byte[] _scramble = [];

    private ColumnDefinition[] _cachedColumns = [];
    private byte[][] _cachedColumnPayloads = [];

    public ServerSession(MySqlConnectionStringBuilder settings, TimeProvider timeProvider)
    {
        _settings = settings;
        Cancellation = new CommandCancellation(this);
        CreatedAt = timeProvider.GetUtcNow();
        LastReturnedAt = CreatedAt;
    }

    public CapabilityFlags Capabilities { get; private set; }

    /// <summary>Timeout and cancellation of the running command; reused by every command.</summary>
    public CommandCancellation Cancellation { get; }

    /// <summary>Start offset and length of each value of the current row, reused across readers.</summary>
    public int[] RowOffsets { get; set; } = new int[32];

    /// <summary>
    /// The definition of column <paramref name="index"/> from its packet, reusing the one parsed for
    /// the same bytes last time: a statement run again returns identical metadata, so a hot query
    /// allocates nothing for its columns.
    /// </summary>
    public ColumnDefinition ColumnDefinitionFor(int index, ReadOnlySpan<byte> payload)
    {
        if (index < _cachedColumns.Length && payload.SequenceEqual(_cachedColumnPayloads[index]))
        {
            return _cachedColumns[index];
        }
        if (index >= _cachedColumns.Length)
        {
            Array.Resize(ref _cachedColumns, Math.Max(index + 1, _cachedColumns.Length * 2));
            Array.Resize(ref _cachedColumnPayloads, _cachedColumns.Length);
            for (var i = 0; i < _cachedColumnPayloads.Length; i++)
            {
                _cachedColumnPayloads[i] ??= [];
            }
        }
        var column = ColumnDefinition.Parse(payload);
        _cachedColumns[index] = column;
        _cachedColumnPayloads[index] = payload.ToArray();
        return column;
    }

    public uint ConnectionId { get; private set; }

    public string ServerVersion { get; private set; } = "";

    public ServerStatus Status { get; private set; }

    /// <summary>The GTID of the last write this session committed, from session tracking.</summary>
    public string? LastGtid { get; internal set; }

    public bool IsEncrypted { get; private set; }

    public string AuthenticationMethod { get; private set; } = "";

    /// <summary>The session saw an I/O or protocol error: it must never be used again.</summary>
    public bool IsBroken { get; private set; }

    /// <summary>A result set is being read; no other command may be sent.</summary>
    public bool IsReadingResult { get; set; }

    public DateTimeOffset CreatedAt { get; }

    public DateTimeOffset LastReturnedAt { get; set; }

    public string? Database { get; set; }

    public bool NoBackslashEscapes => (Status & ServerStatus.NoBackslashEscapes) != 0;

    /// <summary>NO_BACKSLASH_ESCAPES as the session had it once connected: the mode a reset returns to.</summary>
    private bool _connectedNoBackslash;

    /// <summary>
    /// A reset deferred by <see cref="TryDeferReset"/>: it goes out in the same write as the next
    /// command. Until its answer, the session's NO_BACKSLASH_ESCAPES mode is assumed, not known.
    /// </summary>
    public bool ResetPending { get; private set; }

    /// <summary>A deferred reset was refused by the server: the session must not be pooled again.</summary>
    public bool ResetFailed { get; private set; }

    /// <summary>
    /// Whether I/O blocks the calling thread (the synchronous ADO.NET methods set it for their
    /// call); see <see cref="PacketStream.Blocking"/>.
    /// </summary>
    public bool Blocking
    {
        get => _packets?.Blocking ?? false;
        set
        {
            if (_packets is not null)
            {
                _packets.Blocking = value;
            }
        }
    }

    /// <summary>
    /// Connects and authenticates. <paramref name="blocking"/> (a synchronous <c>Open</c>) connects
    /// with blocking calls bounded by the connect timeout, so the socket never enters the
    /// runtime's asynchronous mode and later synchronous calls are plain system calls.
    /// </summary>
    public async Task ConnectAsync(bool blocking, CancellationToken cancellationToken)
    {
        var stream = await OpenSocketAsync(blocking, cancellationToken).ConfigureAwait(false);
        _packets = new PacketStream(stream, MaxAllowedPacket) { Blocking = blocking };
        try
        {
            if (blocking)
            {
                // A silent server must not hold a blocking handshake forever.
                stream.ReadTimeout = checked(_settings.ConnectionTimeout * 1000);
            }
            await HandshakeAsync(cancellationToken).ConfigureAwait(false);
            if (_settings.TrackGtid)
            {
                await ExecuteSimpleAsync(TrackGtidStatement, cancellationToken).ConfigureAwait(false);
            }
            _connectedNoBackslash = NoBackslashEscapes;
            if (blocking)
            {
                stream.ReadTimeout = Timeout.Infinite;
                // From here each synchronous call blocks for itself (BlockingScope).
                _packets.Blocking = false;
            }
        }
        catch (MySqlException e) when (blocking && e.InnerException is IOException { InnerException: SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock } })
        {
            IsBroken = true;
            throw new MySqlException(MySqlErrorCode.UnableToConnect, "08001",
                $"could not connect to {_settings.Server}:{_settings.Port} within the connect timeout of {_settings.ConnectionTimeout} s (no handshake)", isTransient: true, e);
        }
        catch
        {
            IsBroken = true;
            throw;
        }
    }

    /// <summary>
    /// A stream over a connected socket to the first address that accepts: a
    /// <see cref="SocketStream"/> where supported, else a <see cref="NetworkStream"/>.
    /// <paramref name="blocking"/>: see <see cref="ConnectBlocking"/>.
    /// </summary>
    private async Task<Stream> OpenSocketAsync(bool blocking, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(_settings.Server, out var literal) ? [literal]
            : blocking ? Dns.GetHostAddresses(_settings.Server)
            : await Dns.GetHostAddressesAsync(_settings.Server, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = NewSocket(address);
            var own = LibC.IsSupported ? new SocketStream(socket) : null;
            try
            {
                var endPoint = new IPEndPoint(address, _settings.Port);
                if (blocking)
                {
                    ConnectBlocking(socket, endPoint);
                }
                else if (own is not null)
                {
                    await own.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                }
                return own is not null ? own : new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                Close(own, socket);
                last = e;
            }
            catch
            {
                Close(own, socket);
                throw;
            }
        }
        throw new MySqlException(MySqlErrorCode.UnableToConnect, "08001",
            $"cannot connect to {_settings.Server}:{_settings.Port}: {last?.Message ?? "no address"}", isTransient: true, last);
    }

    /// <summary>
    /// A blocking <c>connect</c> bounded by the connect timeout as the socket's send timeout, which
    /// Linux applies to it: the socket stays in blocking mode throughout (once switched to
    /// non-blocking, the runtime emulates blocking calls on it for good).
    /// </summary>
    private void ConnectBlocking(Socket socket, IPEndPoint endPoint)
    {
        socket.SendTimeout = checked(_settings.ConnectionTimeout * 1000);
        try
        {
            socket.Connect(endPoint);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.InProgress or SocketError.WouldBlock or SocketError.TimedOut)
        {
            throw new MySqlException(MySqlErrorCode.UnableToConnect, "08001",
                $"could not connect to {_settings.Server}:{_settings.Port} within the connect timeout of {_settings.ConnectionTimeout} s", isTransient: true, e);
        }
        socket.SendTimeout = 0;
    }

    private static void Close(SocketStream? stream, Socket socket)
    {
        if (stream is not null)
        {
            stream.Dispose();
        }
        else
        {
            socket.Dispose();
        }
    }

    private Socket NewSocket(IPAddress address)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (_settings.LocalAddress.Length > 0)
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(_settings.LocalAddress), 0));
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var handshake = InitialHandshake.Parse((await ReadAsync(cancellationToken).ConfigureAwait(false)).Span);
        ConnectionId = handshake.ConnectionId;
        // MariaDB prefixes "5.5.5-" so that old replication clients accept it; the real version follows.
        ServerVersion = handshake.ServerVersion.StartsWith("5.5.5-", StringComparison.Ordinal) && handshake.ServerVersion.Contains("MariaDB", StringComparison.Ordinal)
            ? handshake.ServerVersion[6..]
            : handshake.ServerVersion;
        Status = handshake.Status;
        _scramble = handshake.Scramble;
        if ((handshake.Capabilities & CapabilityFlags.Protocol41) == 0)
        {
            throw new MySqlProtocolException($"server {ServerVersion} does not speak protocol 4.1");
        }
        Capabilities = ClientCapabilities & handshake.Capabilities;
        if (_settings.Database.Length > 0)
        {
            Capabilities |= CapabilityFlags.ConnectWithDb & handshake.Capabilities;
        }
        var mode = _settings.SslMode;
        var serverTls = (handshake.Capabilities & CapabilityFlags.Ssl) != 0;
        if (mode >= MySqlSslMode.Required && !serverTls)
        {
            throw new MySqlException(MySqlErrorCode.AuthenticationFailed, "08001",
                $"SslMode={mode} but the server does not offer TLS; configure TLS on the server or use SslMode=Preferred");
        }
        if (mode != MySqlSslMode.None && serverTls)
        {
            Capabilities |= CapabilityFlags.Ssl;
            WriteResponsePrefix();
            await SendAsync(cancellationToken).ConfigureAwait(false);
            await StartTlsAsync(mode, cancellationToken).ConfigureAwait(false);
        }

        var plugin = handshake.AuthPluginName;
        var response = AuthenticationMethods.InitialResponse(plugin, _settings.Password, _scramble);
        if (response is null)
        {
            // Answer with native, and let the server ask to switch to a method we know.
            plugin = AuthenticationMethods.NativePassword;
            response = AuthenticationMethods.NativeScramble(_settings.Password, _scramble);
        }
        WriteResponsePrefix();
        _writer.WriteNullTerminated(_settings.UserID);
        _writer.WriteLengthEncoded(response);
        if ((Capabilities & CapabilityFlags.ConnectWithDb) != 0)
        {
            _writer.WriteNullTerminated(_settings.Database);
            Database = _settings.Database;
        }
        _writer.WriteNullTerminated(plugin);
        if ((Capabilities & CapabilityFlags.ConnectAttributes) != 0)
        {
            WriteConnectionAttributes();
        }
        await SendAsync(cancellationToken).ConfigureAwait(false);
        await AuthenticateAsync(plugin, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The fixed start of HandshakeResponse41, which is also the whole SSLRequest.</summary>
    private void WriteResponsePrefix()
    {
        _writer.Clear();
        _writer.Write((uint)Capabilities);
        _writer.Write((uint)MaxAllowedPacket);
        _writer.Write(Utf8Mb4Collation);
        _writer.WriteZeros(23);
    }

    private void WriteConnectionAttributes()
    {
        using var attributes = new PayloadWriter(64);
        attributes.WriteLengthEncoded("_client_name");
        attributes.WriteLengthEncoded("Foobar.MySql");
        attributes.WriteLengthEncoded("_pid");
        attributes.WriteLengthEncoded(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _writer.WriteLengthEncoded(attributes.Payload);
    }

    private async Task StartTlsAsync(MySqlSslMode mode, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(_packets!.Stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = _settings.Server,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => ValidateCertificate(mode, certificate, errors),
        };
        try
        {
            if (_packets.Blocking)
            {
                ssl.AuthenticateAsClient(options);
            }
            else
            {
                await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new MySqlException(MySqlErrorCode.AuthenticationFailed, "08001", $"TLS handshake with {_settings.Server} failed: {e.Message}", isTransient: false, e);
        }
        _packets.ReplaceStream(ssl);
        IsEncrypted = true;
    }

    private bool ValidateCertificate(MySqlSslMode mode, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (mode < MySqlSslMode.VerifyCA)
        {
            return true;
        }
        if (certificate is null)
        {
            return false;
        }
        if (_settings.SslCa.Length > 0)
        {
            using var chain = new X509Chain();
            using var authority = LoadAuthority(_settings.SslCa);
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            var server = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
            if (!chain.Build(server))
            {
                return false;
            }
            return mode == MySqlSslMode.VerifyCA || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
        }
        var ignored = mode == MySqlSslMode.VerifyCA ? SslPolicyErrors.RemoteCertificateNameMismatch : SslPolicyErrors.None;
        return (errors & ~ignored) == SslPolicyErrors.None;
    }

    private static X509Certificate2 LoadAuthority(string path)
    {
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new MySqlException(MySqlErrorCode.AuthenticationFailed, "08001", $"SslCa={path} cannot be read as a PEM certificate: {e.Message}", isTransient: false, e);
        }
    }

    /// <summary>Reads the server's answers to authentication until OK or ERR (https://mariadb.com/kb/en/connection/#authentication-switch-request).</summary>
    private async Task AuthenticateAsync(string plugin, CancellationToken cancellationToken)
    {
        AuthenticationMethod = plugin;
        while (true)
        {
            var payload = await ReadAsync(cancellationToken).ConfigureAwait(false);
            switch (payload.Span[0])
            {
                case 0x00:
                    ReadOk(payload.Span);
                    return;
                case ErrorPayload.Header:
                    var error = ErrorPayload.Parse(payload.Span);
                    throw new MySqlException(error.ErrorCode, error.SqlState, error.Message, isTransient: false);
                case 0xFE:
                    (plugin, _scramble) = ParseAuthSwitch(payload.Span);
                    AuthenticationMethod = plugin;
                    var response = plugin == AuthenticationMethods.ClearPassword
                        ? ClearPassword()
                        : AuthenticationMethods.InitialResponse(plugin, _settings.Password, _scramble)
                          ?? throw new MySqlException(MySqlErrorCode.AuthenticationFailed, "28000",
                              $"the server asks for authentication method '{plugin}', which this client does not implement; use mysql_native_password, caching_sha2_password or ed25519 for this user");
                    await SendRawAsync(response, cancellationToken).ConfigureAwait(false);
                    break;
                case 0x01 when plugin == AuthenticationMethods.CachingSha2Password:
                    await CachingSha2MoreDataAsync(payload.Span[1..].ToArray(), cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new MySqlProtocolException($"unexpected packet 0x{payload.Span[0]:X2} during authentication with {plugin}");
            }
        }
    }

    private byte[] ClearPassword()
    {
        if (!IsEncrypted)
        {
            throw new MySqlException(MySqlErrorCode.AuthenticationFailed, "28000",
                "the server asks for the password in clear text over an unencrypted connection; refusing. Use SslMode=Required");
        }
        return Encoding.UTF8.GetBytes(_settings.Password + "\0");
    }

    private static (string Plugin, byte[] Scramble) ParseAuthSwitch(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        reader.Skip(1);
        var plugin = reader.ReadNullTerminatedString();
        var data = reader.ReadRest();
        return (plugin, (data.Length > 0 && data[^1] == 0 ? data[..^1] : data).ToArray());
    }

    /// <summary>caching_sha2_password after the scramble: 3 = cached, OK follows; 4 = full authentication needed.</summary>
    private async Task CachingSha2MoreDataAsync(byte[] data, CancellationToken cancellationToken)
    {
        if (data.Length == 1 && data[0] == 3)
        {
            return;
        }
        if (data.Length == 1 && data[0] == 4)
        {
            if (IsEncrypted)
            {
                await SendRawAsync(Encoding.UTF8.GetBytes(_settings.Password + "\0"), cancellationToken).ConfigureAwait(false);
                return;
            }
            if (!_settings.AllowPublicKeyRetrieval)
            {
                throw new MySqlException(MySqlErrorCode.AuthenticationFailed, "28000",
                    "caching_sha2_password needs the password once (full authentication): use TLS (SslMode=Required), or set AllowPublicKeyRetrieval=true to accept the server's RSA key");
            }
            await SendRawAsync([2], cancellationToken).ConfigureAwait(false);
            var key = await ReadAsync(cancellationToken).ConfigureAwait(false);
            if (key.Span[0] != 0x01)
            {
                throw new MySqlProtocolException("expected the server's RSA public key");
            }
            var pem = Encoding.ASCII.GetString(key.Span[1..]);
            await SendRawAsync(AuthenticationMethods.RsaEncryptPassword(_settings.Password, _scramble, pem), cancellationToken).ConfigureAwait(false);
            return;
        }
        throw new MySqlProtocolException($"unexpected caching_sha2_password data ({data.Length} bytes)");
    }

    /// <summary>
    /// Sends a command byte and its text argument, starting a new packet sequence; with a reset
    /// pending, the reset goes first in the same write and its answer is read before this returns.
    /// </summary>
    public ValueTask SendCommandAsync(byte command, ReadOnlySpan<char> text, CancellationToken cancellationToken)
    {
        EnsureUsable();
        _writer.Clear();
        _writer.Write(command);
        _writer.Write(text);
        _packets!.Sequence = 0;
        if (ResetPending && command != CommandKind.Quit)
        {
            return SendAfterResetAsync(cancellationToken);
        }
        return SendAsync(cancellationToken);
    }

    /// <summary>
    /// Defers the reset of a session going back to its pool: COM_RESET_CONNECTION (and turning GTID
    /// tracking on again) will go out in the same write as the next command, so the server runs
    /// them in one wake-up and a pooled connection costs no round trip of its own. Refused (false:
    /// reset it now) inside a transaction, whose locks must not wait in the pool, and when the
    /// session changed its NO_BACKSLASH_ESCAPES mode, since the next command is written before the
    /// reset's answer says the mode.
    /// </summary>
    public bool TryDeferReset()
    {
        if ((Status & ServerStatus.InTransaction) != 0 || NoBackslashEscapes != _connectedNoBackslash || IsBroken)
        {
            return false;
        }
        ResetPending = true;
        LastGtid = null;
        Database = _settings.Database.Length > 0 ? _settings.Database : null;
        return true;
    }

    /// <summary>COM_RESET_CONNECTION, and the GTID tracking statement when on, as packets of their own command sequences.</summary>
    private ReadOnlyMemory<byte> ResetPackets => _settings.TrackGtid ? ResetAndTrackGtid : ResetOnly;

    private static readonly byte[] ResetOnly = [1, 0, 0, 0, CommandKind.ResetConnection];
    private static readonly byte[] ResetAndTrackGtid = [.. ResetOnly, .. CommandPacket(CommandKind.Query, TrackGtidStatement)];

    private static byte[] CommandPacket(byte command, string text)
    {
        var payload = (byte[])[command, .. System.Text.Encoding.UTF8.GetBytes(text)];
        return [(byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), 0, .. payload];
    }

    private async ValueTask SendAfterResetAsync(CancellationToken cancellationToken)
    {
        ResetPending = false;
        try
        {
            await _packets!.WriteAsync(_writer, ResetPackets, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            IsBroken = true;
            throw Wrap(e);
        }
        for (var answers = _settings.TrackGtid ? 2 : 1; answers > 0; answers--)
        {
            // Each command's answer starts its own sequence, after the command's packet 0.
            _packets.Sequence = 1;
            var payload = await ReadAsync(cancellationToken).ConfigureAwait(false);
            if (payload.Span[0] == ErrorPayload.Header)
            {
                // The command behind still runs and answers; the session is not pooled again.
                ResetFailed = true;
            }
            else if (OkPayload.IsOk(payload.Span, Capabilities))
            {
                ReadOk(payload.Span);
            }
            else
            {
                IsBroken = true;
                throw new MySqlProtocolException("the answer to a connection reset was neither OK nor an error");
            }
        }
        _packets.Sequence = 1;
    }

    /// <summary>The next payload without I/O, when a whole packet is buffered; otherwise false.</summary>
    public bool TryReadBuffered(out ReadOnlyMemory<byte> payload)
    {
        try
        {
            if (!_packets!.TryReadBuffered(out payload))
            {
                return false;
            }
        }
        catch
        {
            IsBroken = true;
            throw;
        }
        if (payload.Length == 0)
        {
            IsBroken = true;
            throw new MySqlProtocolException("empty packet");
        }
        return true;
    }

    /// <summary>Reads the next payload of the current command; synchronously when it is already buffered.</summary>
    public ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken cancellationToken) =>
        TryReadBuffered(out var payload) ? new(payload) : ReadSlowAsync(cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadOnlyMemory<byte>> ReadSlowAsync(CancellationToken cancellationToken)
    {
        try
        {
            var payload = await _packets!.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
            if (payload.Length == 0)
            {
                throw new MySqlProtocolException("empty packet");
            }
            return payload;
        }
        catch (Exception e)
        {
            IsBroken = true;
            throw Wrap(e);
        }
    }

    public OkPayload ReadOk(ReadOnlySpan<byte> payload)
    {
        var ok = OkPayload.Parse(payload, Capabilities);
        Status = ok.Status;
        if (ok.LastGtid is not null)
        {
            LastGtid = ok.LastGtid;
        }
        return ok;
    }

    /// <summary>Runs a statement that returns no rows; throws its error.</summary>
    public Task<OkPayload> ExecuteSimpleAsync(string sql, CancellationToken cancellationToken) =>
        SendForOkAsync(CommandKind.Query, sql, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => SendForOkAsync(CommandKind.Ping, "", cancellationToken);

    /// <summary>Sends a command whose only answer is OK or ERR; throws the error.</summary>
    private async Task<OkPayload> SendForOkAsync(byte command, string text, CancellationToken cancellationToken)
    {
        await SendCommandAsync(command, text, cancellationToken).ConfigureAwait(false);
        var payload = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (payload.Span[0] == ErrorPayload.Header)
        {
            throw ErrorPayload.Parse(payload.Span).ToException();
        }
        if (!OkPayload.IsOk(payload.Span, Capabilities))
        {
            throw new MySqlProtocolException($"command 0x{command:X2} ('{text}') returned a result set where none was expected");
        }
        return ReadOk(payload.Span);
    }

    /// <summary>COM_RESET_CONNECTION: session variables, temporary tables and user locks go back to a fresh connection's.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        ResetPending = false;
        await SendForOkAsync(CommandKind.ResetConnection, "", cancellationToken).ConfigureAwait(false);
        LastGtid = null;
        Database = _settings.Database.Length > 0 ? _settings.Database : null;
        if (_settings.TrackGtid)
        {
            await ExecuteSimpleAsync(TrackGtidStatement, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Cuts the connection at once: the pending read fails and the session is broken from now on.
    /// Only the transport is closed; the receive buffer is released by <see cref="DisposeAsync"/>,
    /// once no read can still be writing into it.
    /// </summary>
    public void Abort()
    {
        IsBroken = true;
        _packets?.Stream.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_packets is not null && !IsBroken)
        {
            try
            {
                using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await SendCommandAsync(CommandKind.Quit, "", quit.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MySqlException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
        IsBroken = true;
        _packets?.Dispose();
        _writer.Dispose();
        Cancellation.Dispose();
    }

    private async ValueTask SendRawAsync(byte[] data, CancellationToken cancellationToken)
    {
        _writer.Clear();
        _writer.Write(data);
        await SendAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _packets!.WriteAsync(_writer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            IsBroken = true;
            throw Wrap(e);
        }
    }

    private void EnsureUsable()
    {
        if (IsBroken)
        {
            throw new MySqlException(MySqlErrorCode.ConnectionLost, "08003", "the connection is broken; open a new one", isTransient: true);
        }
        if (IsReadingResult)
        {
            throw new MySqlException(MySqlErrorCode.InvalidState, "HY000",
                "a data reader is still open on this connection; read it to the end or dispose it before the next command", isTransient: false);
        }
    }

    private Exception Wrap(Exception e) => e switch
    {
        MySqlException or OperationCanceledException => e,
        IOException or SocketException or ObjectDisposedException => new MySqlException(MySqlErrorCode.ConnectionLost, "08S01",
            $"connection to {_settings.Server}:{_settings.Port} lost: {e.Message}", isTransient: true, e),
        _ => e,
    };
}
