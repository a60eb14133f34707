using System.Globalization;

namespace ConnTrack.Engine.Config;

/// <summary>
/// Zeek's interval literals as configuration text: a number with a unit ("5 min", "1 hr", "3 secs",
/// "500 msec", "1.5 sec", "2 days", "10 usec"; the unit may be plural and the space left out) or a plain
/// number of seconds ("300", "0.5").
/// </summary>
public static class ZeekInterval
{
    private static readonly (string Unit, long Ticks)[] Units =
    {
        ("day", TimeSpan.TicksPerDay),
        ("hr", TimeSpan.TicksPerHour),
        ("min", TimeSpan.TicksPerMinute),
        ("sec", TimeSpan.TicksPerSecond),
        ("msec", TimeSpan.TicksPerMillisecond),
        ("usec", 10),
    };

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (text is null) return false;
        var s = text.Trim();
        if (s.Length == 0) return false;

        int i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
        if (i == 0) return false;
        if (!decimal.TryParse(s.AsSpan(0, i), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            return false;

        var unit = s.Substring(i).TrimStart();
        long ticksPerUnit;
        if (unit.Length == 0)
        {
            ticksPerUnit = TimeSpan.TicksPerSecond;
        }
        else
        {
            if (unit.Length > 1 && unit[^1] == 's' && unit != "s") unit = unit[..^1];
            ticksPerUnit = 0;
            foreach (var (name, ticks) in Units)
                if (unit == name) { ticksPerUnit = ticks; break; }
            if (ticksPerUnit == 0) return false;
        }

        decimal ticksTotal;
        try { ticksTotal = decimal.Round(number * ticksPerUnit, MidpointRounding.AwayFromZero); }
        catch (OverflowException) { return false; }
        if (ticksTotal > TimeSpan.MaxValue.Ticks) return false;
        value = TimeSpan.FromTicks((long)ticksTotal);
        return true;
    }

    /// <summary>The shortest exact text: the largest unit the value is a whole multiple of ("5 min", "1 hr", "3 sec").</summary>
    public static string Format(TimeSpan value)
    {
        long ticks = value.Ticks;
        if (ticks < 0) throw new ArgumentOutOfRangeException(nameof(value), "intervals are not negative");
        if (ticks == 0) return "0 sec";
        foreach (var (name, unitTicks) in Units)
            if (ticks % unitTicks == 0)
                return (ticks / unitTicks).ToString(CultureInfo.InvariantCulture) + " " + name;
        // Finer than a microsecond: seconds with as many decimals as needed (exact in decimal).
        var seconds = (decimal)ticks / TimeSpan.TicksPerSecond;
        return seconds.ToString("0.#######", CultureInfo.InvariantCulture) + " sec";
    }
}
