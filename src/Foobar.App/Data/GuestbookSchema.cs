using Foobar.Db.Schema;

namespace Foobar.App.Data;

/// <summary>The guestbook's tables. Append new migrations; never edit one that has shipped.</summary>
public static class GuestbookSchema
{
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "guestbook entries", """
            CREATE TABLE entries (
                id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
                name VARCHAR(80) NOT NULL,
                message VARCHAR(1000) NOT NULL,
                created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
                written_by VARCHAR(64) NOT NULL,
                KEY created (created_at)
            ) DEFAULT CHARSET = utf8mb4
            """),
        new(2, "write allowance per client", """
            CREATE TABLE write_allowance (
                client VARBINARY(16) PRIMARY KEY,
                full_at DATETIME(6) NOT NULL,
                KEY full (full_at)
            )
            """),
    ];
}
