using System.Runtime.CompilerServices;

namespace ConnTrack.Engine.Tracking;

/// <summary>
/// ICMP "ports": the originator port is the message type, the responder port the type of the matching
/// reply (so requests and replies share a connection), or the code for one-way messages (Zeek's
/// ICMP4_counterpart / ICMP6_counterpart).
/// </summary>
internal static class IcmpCounterpart
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public static ushort ForIcmp4(byte type, byte code, out bool oneWay)
    {
        oneWay = false;
        switch (type)
        {
            case 8: return 0;    // echo → echo reply
            case 0: return 8;
            case 13: return 14;  // timestamp
            case 14: return 13;
            case 15: return 16;  // information
            case 16: return 15;
            case 10: return 9;   // router solicitation / advertisement
            case 9: return 10;
            case 17: return 18;  // address mask
            case 18: return 17;
            default:
                oneWay = true;
                return code;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per connection: never tiered (see ConnTracker.Process)
    public static ushort ForIcmp6(byte type, byte code, out bool oneWay)
    {
        oneWay = false;
        switch (type)
        {
            case 128: return 129; // echo
            case 129: return 128;
            case 133: return 134; // router solicitation / advertisement
            case 134: return 133;
            case 135: return 136; // neighbor solicitation / advertisement
            case 136: return 135;
            case 130: return 131; // multicast listener query / report
            case 131: return 130;
            case 139: return 140; // node information query / response
            case 140: return 139;
            case 144: return 145; // home agent address discovery
            case 145: return 144;
            case 146: return 147; // mobile prefix solicitation / advertisement
            case 147: return 146;
            default:
                oneWay = true;
                return code;
        }
    }
}
