namespace Foobar.MySql;

/// <summary>Whether and how the connection uses TLS.</summary>
public enum MySqlSslMode
{
    /// <summary>Never.</summary>
    None,
    /// <summary>When the server offers it, without checking its certificate (the default, as in MariaDB's client).</summary>
    Preferred,
    /// <summary>Always; fail if the server does not offer it. The certificate is not checked.</summary>
    Required,
    /// <summary>Always, and the certificate must chain to the CA (<c>SslCa</c>, else the system's).</summary>
    VerifyCA,
    /// <summary>As <see cref="VerifyCA"/>, and the certificate must name the host connected to.</summary>
    VerifyFull,
}
