using System.Collections;
using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Foobar.MySql.Core;
using Foobar.MySql.Protocol;
using Foobar.MySql.Protocol.Payloads;
using Foobar.MySql.Protocol.Serialization;

namespace Foobar.MySql;

/// <summary>
/// Reads the result sets of a command, one row at a time, straight from the connection's receive
/// buffer. Rows are not copied: a value is parsed when a getter asks for it.
/// </summary>
public sealed class MySqlDataReader : DbDataReader
{
    private static readonly Task<bool> True = Task.FromResult(true);
    private static readonly Task<bool> False = Task.FromResult(false);

    private readonly MySqlCommand _command;
    private readonly ServerSession _session;
    private readonly CommandBehavior _behavior;
    private ColumnDefinition[] _columns = [];
    private ReadOnlyMemory<byte> _row;
    private int[] _offsets = [];
    private bool _rowBuffered;
    private bool _resultDone = true;
    private bool _hasRows;
    private bool _closed;
    private bool _moreResults;
    private int _recordsAffected = -1;

    private MySqlDataReader(MySqlCommand command, ServerSession session, CommandBehavior behavior)
    {
        _command = command;
        _session = session;
        _behavior = behavior;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal static async ValueTask<MySqlDataReader> CreateAsync(MySqlCommand command, ServerSession session, CommandBehavior behavior, CancellationToken cancellationToken)
    {
        var reader = new MySqlDataReader(command, session, behavior);
        session.IsReadingResult = true;
        try
        {
            await reader.ReadResultHeaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            session.IsReadingResult = false;
            throw;
        }
        return reader;
    }

    /// <summary>Moves to the next result set, accumulating the affected rows of the OK-only results before it.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReadResultHeaderAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var payload = await _session.ReadAsync(cancellationToken).ConfigureAwait(false);
            var first = payload.Span[0];
            if (first == ErrorPayload.Header)
            {
                _resultDone = true;
                _columns = [];
                throw _command.TranslateError(ErrorPayload.Parse(payload.Span).ToException());
            }
            if (first == 0x00)
            {
                var ok = _session.ReadOk(payload.Span);
                _recordsAffected = (_recordsAffected < 0 ? 0 : _recordsAffected) + (int)ok.AffectedRows;
                _command.LastInsertedId = (long)ok.LastInsertId;
                if ((ok.Status & ServerStatus.MoreResultsExist) != 0)
                {
                    continue;
                }
                _columns = [];
                _resultDone = true;
                _session.IsReadingResult = false;
                return false;
            }
            if (first == 0xFB)
            {
                throw new MySqlProtocolException("the server asked for LOCAL INFILE, which this client never enables");
            }
            var countReader = new PayloadReader(payload.Span);
            var count = (int)countReader.ReadLengthEncodedInteger();
            var columns = count == _columns.Length ? _columns : new ColumnDefinition[count];
            for (var i = 0; i < count; i++)
            {
                columns[i] = _session.ColumnDefinitionFor(i, (await _session.ReadAsync(cancellationToken).ConfigureAwait(false)).Span);
            }
            if ((_session.Capabilities & CapabilityFlags.DeprecateEof) == 0)
            {
                await _session.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            _columns = columns;
            if (_session.RowOffsets.Length < count * 2)
            {
                _session.RowOffsets = new int[count * 2];
            }
            _offsets = _session.RowOffsets;
            _resultDone = false;
            // Read ahead one row so HasRows is known; the row stays valid until the next read.
            _hasRows = await ReadRowAsync(cancellationToken).ConfigureAwait(false);
            _rowBuffered = _hasRows;
            return true;
        }
    }

    /// <inheritdoc />
    public override bool Read()
    {
        using var blocking = new BlockingScope(_session);
        return ReadAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override Task<bool> ReadAsync(CancellationToken cancellationToken)
    {
        if (_rowBuffered)
        {
            _rowBuffered = false;
            return True;
        }
        if (_resultDone)
        {
            return False;
        }
        if (_session.TryReadBuffered(out var payload))
        {
            return AcceptRow(payload) ? True : False;
        }
        return ReadRowAsync(cancellationToken).AsTask();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReadRowAsync(CancellationToken cancellationToken)
    {
        using var registration = Watch(cancellationToken);
        return AcceptRow(await _session.ReadAsync(CancellationToken.None).ConfigureAwait(false));
    }

    /// <summary>
    /// Cancelling a reader call's token stops the statement on the server (as the command's own token
    /// does): the I/O itself is never abandoned, so the connection stays in a known state.
    /// </summary>
    private CancellationTokenRegistration Watch(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static (state, token) => ((MySqlCommand)state!).CancelFrom(token), _command)
            : default;

    /// <summary>Takes one packet of the result: a row (true), or the end of the result set (false).</summary>
    private bool AcceptRow(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        if (span[0] == 0xFE && span.Length < PacketStream.MaxPacketPayload)
        {
            // With CLIENT_DEPRECATE_EOF the result ends with an OK; otherwise an EOF (0xFE, warnings, status).
            var ok = (_session.Capabilities & CapabilityFlags.DeprecateEof) != 0 ? _session.ReadOk(span)
                : new OkPayload(0, 0, span.Length >= 5 ? (ServerStatus)System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(span[3..5]) : ServerStatus.None, 0, null);
            _resultDone = true;
            if ((ok.Status & ServerStatus.MoreResultsExist) == 0)
            {
                _session.IsReadingResult = false;
            }
            _moreResults = (ok.Status & ServerStatus.MoreResultsExist) != 0;
            return false;
        }
        if (span[0] == ErrorPayload.Header)
        {
            _resultDone = true;
            _session.IsReadingResult = false;
            throw _command.TranslateError(ErrorPayload.Parse(span).ToException());
        }
        if (!TryIndexShortRow(span))
        {
            IndexRow(span);
        }
        _row = payload;
        return true;
    }

    /// <summary>
    /// Where each value of a text row starts and how long it is (−1: NULL), for a row whose values
    /// are all shorter than 251 bytes (one length byte each): false for any other row, or one that
    /// does not add up, which <see cref="IndexRow"/> then reads or reports.
    /// </summary>
    private bool TryIndexShortRow(ReadOnlySpan<byte> span)
    {
        var offsets = _offsets;
        var at = 0;
        for (var i = 0; i < _columns.Length; i++)
        {
            if ((uint)at >= (uint)span.Length)
            {
                return false;
            }
            var first = span[at];
            if (first < 0xFB)
            {
                offsets[i * 2] = at + 1;
                offsets[i * 2 + 1] = first;
                at += 1 + first;
            }
            else if (first == 0xFB)
            {
                offsets[i * 2] = 0;
                offsets[i * 2 + 1] = -1;
                at++;
            }
            else
            {
                return false;
            }
        }
        return at <= span.Length;
    }

    /// <summary>The same as <see cref="TryIndexShortRow"/> for any row; a malformed one is a <see cref="MySqlProtocolException"/>.</summary>
    private void IndexRow(ReadOnlySpan<byte> span)
    {
        var reader = new PayloadReader(span);
        for (var i = 0; i < _columns.Length; i++)
        {
            if (reader.Peek() == 0xFB)
            {
                reader.Skip(1);
                _offsets[i * 2] = 0;
                _offsets[i * 2 + 1] = -1;
                continue;
            }
            var length = (int)reader.ReadLengthEncodedInteger();
            _offsets[i * 2] = reader.Offset;
            _offsets[i * 2 + 1] = length;
            reader.Skip(length);
        }
    }

    /// <inheritdoc />
    public override bool NextResult()
    {
        using var blocking = new BlockingScope(_session);
        return NextResultAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override async Task<bool> NextResultAsync(CancellationToken cancellationToken)
    {
        using var registration = Watch(cancellationToken);
        while (await ReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
        }
        if (!_moreResults)
        {
            _columns = [];
            return false;
        }
        _moreResults = false;
        return await ReadResultHeaderAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Close()
    {
        using var blocking = new BlockingScope(_session);
        DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        try
        {
            if (!_session.IsBroken)
            {
                while (await NextResultAsync(CancellationToken.None).ConfigureAwait(false))
                {
                }
            }
        }
        finally
        {
            _session.IsReadingResult = false;
            await _command.OnReaderClosedAsync(this).ConfigureAwait(false);
            if ((_behavior & CommandBehavior.CloseConnection) != 0 && _command.Connection is { } connection)
            {
                await connection.CloseAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override int Depth => 0;

    /// <inheritdoc />
    public override int FieldCount => _columns.Length;

    /// <inheritdoc />
    public override bool HasRows => _hasRows;

    /// <inheritdoc />
    public override bool IsClosed => _closed;

    /// <inheritdoc />
    public override int RecordsAffected => _recordsAffected;

    /// <inheritdoc />
    public override object this[int ordinal] => GetValue(ordinal);

    /// <inheritdoc />
    public override object this[string name] => GetValue(GetOrdinal(name));

    /// <inheritdoc />
    public override string GetName(int ordinal) => Column(ordinal).Name;

    /// <inheritdoc />
    public override int GetOrdinal(string name)
    {
        for (var i = 0; i < _columns.Length; i++)
        {
            if (string.Equals(_columns[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        throw new IndexOutOfRangeException($"no column '{name}'; columns: {string.Join(", ", _columns.Select(c => c.Name))}");
    }

    /// <inheritdoc />
    public override string GetDataTypeName(int ordinal) => RowValues.TypeName(Column(ordinal));

    /// <inheritdoc />
    public override Type GetFieldType(int ordinal) => RowValues.FieldType(Column(ordinal));

    /// <inheritdoc />
    public override bool IsDBNull(int ordinal)
    {
        Column(ordinal);
        return _offsets[ordinal * 2 + 1] < 0;
    }

    /// <inheritdoc />
    public override object GetValue(int ordinal) => IsDBNull(ordinal) ? DBNull.Value : RowValues.ToObject(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override int GetValues(object[] values)
    {
        var count = Math.Min(values.Length, _columns.Length);
        for (var i = 0; i < count; i++)
        {
            values[i] = GetValue(i);
        }
        return count;
    }

    /// <inheritdoc />
    public override bool GetBoolean(int ordinal) => RowValues.ToBoolean(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override byte GetByte(int ordinal) => checked((byte)RowValues.ToInt64(Value(ordinal), _columns[ordinal]));

    /// <inheritdoc />
    public override short GetInt16(int ordinal) => checked((short)RowValues.ToInt64(Value(ordinal), _columns[ordinal]));

    /// <inheritdoc />
    public override int GetInt32(int ordinal) => RowValues.ToInt32(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override long GetInt64(int ordinal) => RowValues.ToInt64(Value(ordinal), _columns[ordinal]);

    /// <summary>An unsigned 64-bit value (BIGINT UNSIGNED, BIT).</summary>
    public ulong GetUInt64(int ordinal) => RowValues.ToUInt64(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override float GetFloat(int ordinal) => (float)RowValues.ToDouble(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override double GetDouble(int ordinal) => RowValues.ToDouble(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override decimal GetDecimal(int ordinal) => RowValues.ToDecimal(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override DateTime GetDateTime(int ordinal) => RowValues.ToDateTime(Value(ordinal), _columns[ordinal]);

    /// <summary>A TIME value.</summary>
    public TimeSpan GetTimeSpan(int ordinal) => RowValues.ToTimeSpan(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override Guid GetGuid(int ordinal) => RowValues.ToGuid(Value(ordinal), _columns[ordinal]);

    /// <inheritdoc />
    public override string GetString(int ordinal) => RowValues.ToText(Value(ordinal));

    /// <inheritdoc />
    public override char GetChar(int ordinal)
    {
        var text = GetString(ordinal);
        return text.Length > 0 ? text[0] : throw new InvalidCastException($"column '{_columns[ordinal].Name}' is an empty string, not a character");
    }

    /// <inheritdoc />
    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length)
    {
        var value = Value(ordinal);
        if (buffer is null)
        {
            return value.Length;
        }
        var available = Math.Max(0, value.Length - (int)dataOffset);
        var count = Math.Min(available, length);
        value.Slice((int)dataOffset, count).CopyTo(buffer.AsSpan(bufferOffset));
        return count;
    }

    /// <inheritdoc />
    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length)
    {
        var text = GetString(ordinal);
        if (buffer is null)
        {
            return text.Length;
        }
        var count = Math.Min(Math.Max(0, text.Length - (int)dataOffset), length);
        text.AsSpan((int)dataOffset, count).CopyTo(buffer.AsSpan(bufferOffset));
        return count;
    }

    /// <inheritdoc />
    public override T GetFieldValue<T>(int ordinal)
    {
        if (IsDBNull(ordinal))
        {
            return default(T) is null ? default! : throw new InvalidCastException($"column '{_columns[ordinal].Name}' is NULL; read it as a nullable type");
        }
        var column = _columns[ordinal];
        var value = Value(ordinal);
        if (typeof(T) == typeof(int) || typeof(T) == typeof(int?))
        {
            return (T)(object)RowValues.ToInt32(value, column);
        }
        if (typeof(T) == typeof(long) || typeof(T) == typeof(long?))
        {
            return (T)(object)RowValues.ToInt64(value, column);
        }
        if (typeof(T) == typeof(ulong) || typeof(T) == typeof(ulong?))
        {
            return (T)(object)RowValues.ToUInt64(value, column);
        }
        if (typeof(T) == typeof(uint) || typeof(T) == typeof(uint?))
        {
            return (T)(object)checked((uint)RowValues.ToUInt64(value, column));
        }
        if (typeof(T) == typeof(short) || typeof(T) == typeof(short?))
        {
            return (T)(object)checked((short)RowValues.ToInt64(value, column));
        }
        if (typeof(T) == typeof(ushort) || typeof(T) == typeof(ushort?))
        {
            return (T)(object)checked((ushort)RowValues.ToUInt64(value, column));
        }
        if (typeof(T) == typeof(sbyte) || typeof(T) == typeof(sbyte?))
        {
            return (T)(object)checked((sbyte)RowValues.ToInt64(value, column));
        }
        if (typeof(T) == typeof(byte) || typeof(T) == typeof(byte?))
        {
            return (T)(object)checked((byte)RowValues.ToUInt64(value, column));
        }
        if (typeof(T) == typeof(bool) || typeof(T) == typeof(bool?))
        {
            return (T)(object)RowValues.ToBoolean(value, column);
        }
        if (typeof(T) == typeof(string))
        {
            return (T)(object)RowValues.ToText(value);
        }
        if (typeof(T) == typeof(decimal) || typeof(T) == typeof(decimal?))
        {
            return (T)(object)RowValues.ToDecimal(value, column);
        }
        if (typeof(T) == typeof(double) || typeof(T) == typeof(double?))
        {
            return (T)(object)RowValues.ToDouble(value, column);
        }
        if (typeof(T) == typeof(float) || typeof(T) == typeof(float?))
        {
            return (T)(object)(float)RowValues.ToDouble(value, column);
        }
        if (typeof(T) == typeof(DateTime) || typeof(T) == typeof(DateTime?))
        {
            return (T)(object)RowValues.ToDateTime(value, column);
        }
        if (typeof(T) == typeof(DateOnly) || typeof(T) == typeof(DateOnly?))
        {
            return (T)(object)DateOnly.FromDateTime(RowValues.ToDateTime(value, column));
        }
        if (typeof(T) == typeof(TimeSpan) || typeof(T) == typeof(TimeSpan?))
        {
            return (T)(object)RowValues.ToTimeSpan(value, column);
        }
        if (typeof(T) == typeof(TimeOnly) || typeof(T) == typeof(TimeOnly?))
        {
            return (T)(object)TimeOnly.FromTimeSpan(RowValues.ToTimeSpan(value, column));
        }
        if (typeof(T) == typeof(Guid) || typeof(T) == typeof(Guid?))
        {
            return (T)(object)RowValues.ToGuid(value, column);
        }
        if (typeof(T) == typeof(byte[]))
        {
            return (T)(object)value.ToArray();
        }
        return (T)GetValue(ordinal);
    }

    /// <inheritdoc />
    public override IEnumerator GetEnumerator() => new DbEnumerator(this, closeReader: false);

    private ColumnDefinition Column(int ordinal)
    {
        if ((uint)ordinal >= (uint)_columns.Length)
        {
            throw new IndexOutOfRangeException($"column {ordinal} does not exist; the result has {_columns.Length} columns");
        }
        return _columns[ordinal];
    }

    private ReadOnlySpan<byte> Value(int ordinal)
    {
        Column(ordinal);
        var length = _offsets[ordinal * 2 + 1];
        if (length < 0)
        {
            throw new InvalidCastException($"column '{_columns[ordinal].Name}' is NULL; check IsDBNull first or read a nullable type");
        }
        return _row.Span.Slice(_offsets[ordinal * 2], length);
    }
}
