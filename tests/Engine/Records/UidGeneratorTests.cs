using ConnTrack.Engine.Records;
using Xunit;

namespace ConnTrack.Engine.Tests.Records;

public class UidGeneratorTests
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    // The plain definition: base62 digits of the 96-bit value, least significant first, by 128-bit division.
    private static string Reference(uint hi, ulong lo)
    {
        UInt128 value = ((UInt128)hi << 64) | lo;
        var s = "C";
        do
        {
            s += Alphabet[(int)(value % 62)];
            value /= 62;
        } while (value != 0);
        return s;
    }

    [Theory]
    [InlineData(0u, 0UL, "C0")]
    [InlineData(0u, 61UL, "Cz")]
    [InlineData(0u, 62UL, "C01")]
    [InlineData(0u, 3843UL, "Czz")] // 62^2 - 1
    public void Render_small_values(uint hi, ulong lo, string expected) =>
        Assert.Equal(expected, UidGenerator.Render(hi, lo));

    [Theory]
    [InlineData(0u, ulong.MaxValue)]
    [InlineData(1u, 0UL)]
    [InlineData(uint.MaxValue, ulong.MaxValue)]
    [InlineData(uint.MaxValue, 0UL)]
    [InlineData(0x80000000u, 0x0000000100000000UL)]
    public void Render_limb_boundaries_match_128_bit_division(uint hi, ulong lo) =>
        Assert.Equal(Reference(hi, lo), UidGenerator.Render(hi, lo));

    [Fact]
    public void Render_matches_128_bit_division_on_random_values()
    {
        var random = new Random(7);
        for (int i = 0; i < 200_000; i++)
        {
            uint hi = (uint)random.NextInt64(0, 1L << 32);
            ulong lo = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            // Also values with empty high limbs, which give the shorter uids.
            if (i % 4 == 1) hi = 0;
            if (i % 4 == 2) { hi = 0; lo >>= 32; }
            Assert.Equal(Reference(hi, lo), UidGenerator.Render(hi, lo));
        }
    }

    [Fact]
    public void Same_seed_gives_same_uids_and_a_different_seed_others()
    {
        var a = new UidGenerator(42);
        var b = new UidGenerator(42);
        var c = new UidGenerator(43);
        for (int i = 0; i < 1000; i++)
        {
            var uid = a.NextUid();
            Assert.Equal(uid, b.NextUid());
            Assert.NotEqual(uid, c.NextUid());
            Assert.StartsWith("C", uid);
            Assert.InRange(uid.Length, 2, 18); // 96 bits are at most 17 base62 digits
        }
    }

    [Fact]
    public void Uid_bits_handed_to_a_record_read_as_the_uid_of_the_same_draw()
    {
        var text = new UidGenerator(7);
        var bits = new UidGenerator(7);
        for (int i = 0; i < 1000; i++)
        {
            var record = new ConnRecord();
            var (hi, lo) = bits.NextUidBits();
            record.SetUidBits(hi, lo);
            var copy = record.Clone(); // copied before the text was made: it makes the same one
            Assert.Equal(text.NextUid(), record.Uid);
            Assert.Equal(record.Uid, copy.Uid);
        }
        var set = new ConnRecord();
        set.SetUidBits(1, 2);
        set.Uid = "Cmine";
        Assert.Equal("Cmine", set.Uid);
        Assert.Equal("", new ConnRecord().Uid);
    }
}
