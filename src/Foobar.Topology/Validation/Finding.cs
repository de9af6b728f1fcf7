namespace Foobar.Topology.Validation;

/// <summary>A rule a topology breaks, by key path; the loader turns it into a located problem.</summary>
public sealed record Finding(string Key, string Message, string Fix);
