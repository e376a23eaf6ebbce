namespace Gateway.Server.Orchestration;

/// <summary>Paging bounds shared by every list: (page - 1) × pageSize must stay far from overflowing an offset.</summary>
internal static class Paging
{
    /// <summary>The highest page number a list accepts (with the largest page size, 500, an offset under 2^31).</summary>
    public const int MaxPage = 1_000_000;
}
