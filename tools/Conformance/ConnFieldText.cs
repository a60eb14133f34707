using System.Globalization;
using System.Text;
using ConnTrack.Engine.Records;

namespace ConnTrack.Conformance;

/// <summary>
/// Our record's fields as Zeek's ASCII writer writes them in conn.log. The conn.log columns go through the
/// engine's <see cref="ZeekFieldFormat"/> (the one renderer the writers use too); the VLAN columns of the
/// VLAN policies are added here.
/// </summary>
public static class ConnFieldText
{
    public const string Unset = ZeekFieldFormat.UnsetField;
    public const string Empty = ZeekFieldFormat.EmptyField;

    /// <summary>The field's text, or null for a column this engine does not produce.</summary>
    public static string? Format(ConnRecord r, string field)
    {
        var index = ZeekFieldFormat.IndexOf(field);
        if (index >= 0)
        {
            var sb = new StringBuilder(32);
            ZeekFieldFormat.AppendTsv(sb, r, index);
            return sb.ToString();
        }
        return field switch
        {
            "vlan" or "id.ctx.vlan" => r.Vlan is { } v ? v.ToString(CultureInfo.InvariantCulture) : Unset,
            "inner_vlan" or "id.ctx.inner_vlan" => r.InnerVlan is { } iv ? iv.ToString(CultureInfo.InvariantCulture) : Unset,
            "orig_l2_addr" => Mac(r.OrigL2Addr),
            "resp_l2_addr" => Mac(r.RespL2Addr),
            "pppoe_session_id" => r.PppoeSessionId is { } s ? s.ToString(CultureInfo.InvariantCulture) : Unset,
            "community_id" => CommunityId.Compute(r),
            _ => null,
        };
    }

    // Zeek leaves an all-zero link-layer address unset.
    private static string Mac(ulong? mac) => mac is { } m && m != 0 ? ZeekFieldFormat.FormatMac(m) : Unset;
}
