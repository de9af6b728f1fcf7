namespace Foobar.MySql.Protocol;

/// <summary>Command bytes (https://mariadb.com/kb/en/1-connecting-connecting/ and the command pages).</summary>
internal static class CommandKind
{
    public const byte Quit = 0x01;
    public const byte InitDb = 0x02;
    public const byte Query = 0x03;
    public const byte Ping = 0x0E;
    public const byte ResetConnection = 0x1F;
}
