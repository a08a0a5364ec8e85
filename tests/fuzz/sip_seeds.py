# SPDX-License-Identifier: BSD-3-Clause
"""SIP messages for the fuzz corpora (imported by make_seeds.py).

RFC4475 holds one message per torture test of RFC 4475 ("SIP Torture Test Messages", the 49
messages: valid-but-odd, invalid, transaction- and application-layer semantics, RFC 2543
syntax) and RFC5118 one per IPv6 test of RFC 5118. They are written here from the tests'
descriptions, with our own names, hosts and values — not copies of the RFCs' messages.
OWN holds messages for ringbridge's own concerns (filter rules, evasions, broken UTF-8).

Each value is text with "\n" line ends; crlf() turns them into CRLF, as on the wire
(entries whose name ends in "_lf" keep bare LF on purpose). Content-Length values are
computed where the message says CL=auto.
"""


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def with_body(head, body, cl=None):
    """HEAD (headers without Content-Length or the empty line) + BODY, CRLF line ends."""
    body = crlf(body)
    n = len(body) if cl is None else cl  # one character per byte (latin-1)
    return crlf(head.rstrip("\n") + "\nContent-Length: %s\n\n" % n) + body


SDP4 = """v=0
o=caller 2890844526 2890844526 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
a=sendrecv
"""

RFC4475 = {}

# --- 3.1.1 valid messages -------------------------------------------------------------------

# 3.1.1.1: short but tortuous: odd whitespace, folding, compact and case-mixed names,
# escapes in URIs and quoted strings, an unknown header, leading zeros in Content-Length.
RFC4475["wsinv"] = crlf(
    "INVITE sip:bob.smith@example.net;transport=udp SIP/2.0\n"
    "TO :\n sip:bob.smith@example.net ;   tag    = 8f3a1c\n"
    "from   : \"B\\\"ob's \\\\ friend\"\t <sip:%61lice@example.com;\n  user=ip>;tag=77aa\n"
    "MaX-fOrWaRdS: 0068\n"
    "Call-ID: tortuous.call.0001@\n  example.com\n"
    "Content-Length   : 0000\n"
    "cseq: 0009\n  INVITE\n"
    "Via  : SIP  /   2.0\n /UDP\n    192.0.2.77;branch=z9hG4bK7e1c.aa\n"
    "v:  SIP  / 2.0  / UDP  192.0.2.78 ; branch = z9hG4bKd1f\n"
    "m:\"Quoted \\\" Name\" <sip:alice@192.0.2.77:5060>\n"
    "NewFangledHeader:   newfangled value\n continued newfangled value\n"
    "UnknownHeaderWithUnusualValue: ;;,,;;,;\n"
    "Route:\n <sip:services.example.net;lr;unknownwith=value;unknown-no-value>\n"
    "j:rv\n"
    "\n")

# 3.1.1.2: a method and header values using the full range of legal token characters.
RFC4475["intmeth"] = crlf(
    "!odd-Method.09_*+`%fine'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\n"
    "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\n"
    "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\n"
    "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9\";tag=_token~1'+`*%!-.\n"
    "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\n"
    "CSeq: 139122385 !odd-Method.09_*+`%fine'~\n"
    "Max-Forwards: 255\n"
    "extensionHeader-!.%*+_`'~: \xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\n"
    "Content-Length: 0\n\n")

# 3.1.1.3: %-escapes used correctly in the Request-URI, To and a Contact.
RFC4475["esc01"] = with_body(
    "INVITE sip:sips%3Acarol%40example.org@example.net SIP/2.0\n"
    "To: sip:%63arol@example.net\n"
    "From: <sip:d%61ve@example.com>;tag=f0e1d2\n"
    "Max-Forwards: 70\n"
    "Contact: <sip:dave@host%31.example.com>\n"
    "Call-ID: esc01.11aa22bb33@example.com\n"
    "CSeq: 14 INVITE\n"
    "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKesc01\n"
    "Content-Type: application/sdp\n", SDP4)

# 3.1.1.4: escaped NULs (%00) in user parts.
RFC4475["escnull"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "To: sip:null-%00-null@example.com\n"
    "From: sip:null-%00-null@example.com;tag=83a1\n"
    "Call-ID: escnull.4ab2@example.com\n"
    "CSeq: 1 REGISTER\n"
    "Max-Forwards: 70\n"
    "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKescnull\n"
    "Contact: <sip:%00@host5.example.com>\n"
    "Contact: <sip:%00%00@host5.example.com>\n"
    "L:0\n\n")

# 3.1.1.5: a % that is not an escape (in a quoted display name and a parameter).
RFC4475["esc02"] = crlf(
    "RE%47IST%45R sip:registrar.example.com SIP/2.0\n"
    "To: \"%Z45\" <sip:resource@example.com>\n"
    "From: \"%Z45\" <sip:resource@example.com>;tag=9a8b\n"
    "Max-Forwards: 70\n"
    "Contact: <sip:alias1@host1.example.com>\n"
    "Call-ID: esc02.1c2d@example.com\n"
    "CSeq: 29 RE%47IST%45R\n"
    "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKesc02\n"
    "l: 0\n\n")

# 3.1.1.6: no whitespace between the display name and "<".
RFC4475["lwsdisp"] = crlf(
    "OPTIONS sip:user@example.com SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: caller<sip:caller@example.com>;tag=323\n"
    "Max-Forwards: 70\n"
    "Call-ID: lwsdisp.1234abcd@example.com\n"
    "CSeq: 60 OPTIONS\n"
    "Via: SIP/2.0/UDP host2.example.com;branch=z9hG4bKlwsdisp\n"
    "l: 0\n\n")

# 3.1.1.7: very long values: display name, tags, Call-ID, branch, an unknown header.
_long = "longvalue" * 24
RFC4475["longreq"] = with_body(
    "INVITE sip:user@example.com SIP/2.0\n"
    "To: \"I have a user name of %s proportion\" <sip:user@example.com:6000;unknownparam1=very%s;unknownparam2=%s>;tag=%s\n"
    "From: sip:caller@example.net;tag=%s\n"
    "Call-ID: long%s@example.net\n"
    "CSeq: 18 INVITE\n"
    "Unknown-%s-Header: unknown-%s-value; unknown-%s-parameter=%s\n"
    "Via: SIP/2.0/TCP sip33.example.com;branch=z9hG4bK%s\n"
    "Via: SIP/2.0/TCP sip32.example.com\n"
    "Via: SIP/2.0/TCP sip31.example.com\n"
    "Via: SIP/2.0/TCP sip30.example.com\n"
    "Max-Forwards: 70\n"
    "Contact: <sip:amazinglylongcallername%s@host5.example.net>\n"
    "Content-Type: application/sdp\n" % ((_long,) * 12), SDP4)

# 3.1.1.8: a UDP datagram with a complete REGISTER (Content-Length 0) and junk after it.
RFC4475["dblreq"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "To: sip:j.user@example.com\n"
    "From: sip:j.user@example.com;tag=43251j3j324\n"
    "Max-Forwards: 8\n"
    "I: dblreq.0ha0isndaksdj99sdfafnl3lk233412\n"
    "Contact: sip:j.user@host.example.com\n"
    "CSeq: 8 REGISTER\n"
    "Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKdblreq\n"
    "Content-Length: 0\n\n"
    "INVITE sip:joe@example.com SIP/2.0\n"
    "t: sip:joe@example.com\n"
    "From: sip:caller@example.net;tag=141334\n"
    "Max-Forwards: 8\n"
    "Call-ID: dblreq.other@example.net\n"
    "CSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKdblreq2\n"
    "Content-Length: 0\n\n")

# 3.1.1.9: semicolons (and an escaped @) in the user part of URIs.
RFC4475["semiuri"] = crlf(
    "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0\n"
    "To: sip:j_user@example.com\n"
    "From: sip:caller@example.org;tag=33242\n"
    "Max-Forwards: 3\n"
    "Call-ID: semiuri.0ha0isnda977644900765@192.0.2.15\n"
    "CSeq: 8 OPTIONS\n"
    "Accept: application/sdp, application/pkcs7-mime,\n multipart/mixed, multipart/signed,\n message/sip, message/sipfrag\n"
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsemiuri\n"
    "l: 0\n\n")

# 3.1.1.10: Via headers with known, rare and unknown transports.
RFC4475["transports"] = crlf(
    "OPTIONS sip:user@example.com SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: <sip:caller@example.com>;tag=323\n"
    "Max-Forwards: 70\n"
    "Call-ID: transports.kijh4akdnaqjkwendsasfdj\n"
    "Accept: application/sdp\n"
    "CSeq: 60 OPTIONS\n"
    "Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw\n"
    "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf\n"
    "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj\n"
    "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en\n"
    "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee\n"
    "l: 0\n\n")

# 3.1.1.11: a multipart/mixed body: an SDP part and a binary part.
_mp_body = ("--boundary42\n"
            "Content-Type: application/sdp\n\n" + SDP4 +
            "--boundary42\n"
            "Content-Type: application/octet-stream\n"
            "Content-Disposition: signal;handling=optional\n\n"
            "\x00\x01\x02binary\xff\xfe\x80 data\n"
            "--boundary42--\n")
RFC4475["mpart01"] = with_body(
    "MESSAGE sip:kumiko@example.org SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.33:5060;branch=z9hG4bKmpart01\n"
    "Max-Forwards: 70\n"
    "From: \"Hiroshi\" <sip:hiroshi@example.com>;tag=a1b2\n"
    "To: <sip:kumiko@example.org>\n"
    "Call-ID: mpart01.6de3f2@192.0.2.33\n"
    "CSeq: 9 MESSAGE\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed;boundary=boundary42\n", _mp_body)

# 3.1.1.12: a response whose reason phrase is unusual UTF-8 text.
RFC4475["unreason"] = crlf(
    "SIP/2.0 200 = 6 \xc3\x97 7 \xe2\x80\x94 \xc3\xa7a marche tr\xc3\xa8s bien \xe2\x9c\x93 \xe6\xad\xa3\xe3\x81\x97\xe3\x81\x84\n"
    "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bKunreason\n"
    "Call-ID: unreason.0384840201@192.0.2.198\n"
    "CSeq: 1 INVITE\n"
    "From: <sip:caller@example.com>;tag=39ansfi3\n"
    "To: <sip:user@example.edu>;tag=902jndnke3\n"
    "Content-Length: 0\n"
    "Contact: <sip:user@host198.example.com>\n\n")

# 3.1.1.13: a response with an empty reason phrase.
RFC4475["noreason"] = crlf(
    "SIP/2.0 100 \n"
    "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bKnoreason\n"
    "Call-ID: noreason.9ihsnd3@192.0.2.105\n"
    "CSeq: 2 INVITE\n"
    "From: <sip:caller@example.com>;tag=39ansfi3\n"
    "To: <sip:user@example.edu>;tag=902jndnke3\n"
    "Content-Length: 0\n\n")

# --- 3.1.2 invalid messages -----------------------------------------------------------------

# 3.1.2.1: extra separators in Via, Contact and an unknown header.
RFC4475["badinv01"] = crlf(
    "INVITE sip:user@example.com SIP/2.0\n"
    "To: sip:j.user@example.com\n"
    "From: sip:caller@example.net;;tag=134161461246\n"
    "Max-Forwards: 7\n"
    "Call-ID: badinv01.0ha0isndaksdjasdf3234nas\n"
    "CSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\n"
    "Contact: \"Joe\" <sip:joe@example.org>;;,,;;\n"
    "Content-Length: 0\n\n")

# 3.1.2.2: Content-Length larger than the body that follows.
RFC4475["clerr"] = with_body(
    "INVITE sip:user@example.com SIP/2.0\n"
    "Max-Forwards: 80\n"
    "To: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=93942939o2\n"
    "Contact: <sip:caller@hungry.example.net>\n"
    "Call-ID: clerr.0ha0isndaksdjweiafasdk3\n"
    "CSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKclerr\n"
    "Content-Type: application/sdp\n", SDP4, cl=9999)

# 3.1.2.3: a negative Content-Length.
RFC4475["ncl"] = with_body(
    "INVITE sip:user@example.com SIP/2.0\n"
    "Max-Forwards: 254\n"
    "To: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=32394234\n"
    "Call-ID: ncl.0ha0isndaksdj2193423r542w35\n"
    "CSeq: 0 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKncl\n"
    "Contact: <sip:caller@example53.example.net>\n"
    "Content-Type: application/sdp\n", SDP4, cl="-999")

# 3.1.2.4: request scalars too large: CSeq, Max-Forwards, Expires, a Contact's expires.
RFC4475["scalar02"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3\n"
    "To: <sip:user@example.com>\n"
    "From: <sip:user@example.com>;tag=239232jh3\n"
    "CSeq: 36893488147419103232 REGISTER\n"
    "Call-ID: scalar02.23l4sdlfkj3\n"
    "Max-Forwards: 300\n"
    "Expires: 1000000000000000\n"
    "Contact: <sip:user@host129.example.com>\n ;expires=280297596632815\n"
    "Content-Length: 0\n\n")

# 3.1.2.5: response scalars too large: CSeq, a Retry-After and a Warning code.
RFC4475["scalarlg"] = crlf(
    "SIP/2.0 503 Service Unavailable\n"
    "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129\n"
    "To: <sip:user@example.com>\n"
    "From: <sip:other@example.net>;tag=2easdjfejw\n"
    "CSeq: 9292394834772304023312 OPTIONS\n"
    "Call-ID: scalarlg.3298420296dkfjw\n"
    "Retry-After: 949302838503028349304023988\n"
    "Warning: 1812 overture \"In E-flat\"\n"
    "Content-Length: 0\n\n")

# 3.1.2.6: a display name whose opening quote is never closed.
RFC4475["quotbal"] = with_body(
    "INVITE sip:user@example.com SIP/2.0\n"
    "To: \"Mr. J. User <sip:j.user@example.com>\n"
    "From: sip:caller@example.net;tag=93334\n"
    "Max-Forwards: 10\n"
    "Call-ID: quotbal.aksdj4wefah2334\n"
    "CSeq: 0 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.15:5060;branch=z9hG4bKquotbal\n"
    "Content-Type: application/sdp\n", SDP4)

# 3.1.2.7: the Request-URI in angle brackets.
RFC4475["ltgtruri"] = with_body(
    "INVITE <sip:user@example.com> SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=39291\n"
    "Max-Forwards: 23\n"
    "Call-ID: ltgtruri.1@192.0.2.5\n"
    "CSeq: 1 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKltgtruri\n"
    "Contact: <sip:caller@host5.example.net>\n"
    "Content-Type: application/sdp\n", SDP4)

# 3.1.2.8: whitespace inside the Request-URI.
RFC4475["lwsruri"] = with_body(
    "INVITE sip:user@example.com; lr SIP/2.0\n"
    "To: sip:user@example.com;tag=3xfe-9921883-z9f\n"
    "From: sip:caller@example.net;tag=231413434\n"
    "Max-Forwards: 5\n"
    "Call-ID: lwsruri.2000@192.0.2.1\n"
    "CSeq: 2 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKlwsruri\n"
    "Contact: <sip:caller@host1.example.net>\n"
    "Content-Type: application/sdp\n", SDP4)

# 3.1.2.9: several spaces between the request line's elements.
RFC4475["lwsstart"] = with_body(
    "INVITE  sip:user@example.com  SIP/2.0\n"
    "Max-Forwards: 8\n"
    "To: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=8814\n"
    "Call-ID: lwsstart.dfsjiosdfjf\n"
    "CSeq: 1 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKlwsstart\n"
    "Contact: <sip:caller@host21.example.net>\n"
    "Content-Type: application/sdp\n", SDP4)

# 3.1.2.10: spaces after the version at the end of the request line.
RFC4475["trws"] = crlf(
    "OPTIONS sip:remote-target@example.com SIP/2.0  \n"
    "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bKtrws\n"
    "Max-Forwards: 70\n"
    "From: <sip:remote-caller@example.net>;tag=91823\n"
    "To: <sip:remote-target@example.com>\n"
    "Call-ID: trws.sdf0234n2nds0a099u23h3hnnw009cdkne3\n"
    "Accept: application/sdp\n"
    "CSeq: 3923239 OPTIONS\n"
    "l: 0\n\n")

# 3.1.2.11: escaped headers in the Request-URI.
RFC4475["escruri"] = with_body(
    "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=341518\n"
    "Max-Forwards: 7\n"
    "Contact: <sip:caller@host39923.example.net>\n"
    "Call-ID: escruri.23312512541@192.0.2.3\n"
    "CSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKescruri\n"
    "Content-Type: application/sdp\n", SDP4)

# 3.1.2.12: a Date header in a time zone SIP does not allow.
RFC4475["baddate"] = with_body(
    "INVITE sip:user@example.com SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=2234923\n"
    "Max-Forwards: 70\n"
    "Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234\n"
    "CSeq: 1392934 INVITE\n"
    "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKbaddate\n"
    "Date: Mon, 02 Feb 2009 14:30:00 EST\n"
    "Contact: <sip:caller@host5.example.net>\n"
    "Content-Type: application/sdp\n", SDP4)

# 3.1.2.13: a Contact name-addr with URI parameters and headers not in <>.
RFC4475["regbadct"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:user@example.com;tag=998332\n"
    "Max-Forwards: 70\n"
    "Call-ID: regbadct.k345asrl3fdbv@10.0.0.1\n"
    "CSeq: 1 REGISTER\n"
    "Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKregbadct\n"
    "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\n"
    "l: 0\n\n")

# 3.1.2.14: spaces inside an addr-spec in angle brackets.
RFC4475["badaspec"] = crlf(
    "OPTIONS sip:user@example.org SIP/2.0\n"
    "Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKbadaspec\n"
    "Max-Forwards: 70\n"
    "From: \"Watson, A.\" <sip:a.watson@example.com >;tag=99sa0xk\n"
    "To: \"Watson, T.\" < sip:t.watson@example.org >\n"
    "Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3\n"
    "Accept: application/sdp\n"
    "CSeq: 3923239 OPTIONS\n"
    "l: 0\n\n")

# 3.1.2.15: a display name with characters a token cannot hold, not quoted.
RFC4475["baddn"] = crlf(
    "OPTIONS sip:t.watson@example.org SIP/2.0\n"
    "Via: SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKbaddn\n"
    "Max-Forwards: 70\n"
    "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43\n"
    "To: Watson, Thomas <sip:t.watson@example.org>\n"
    "Call-ID: baddn.31415@c.example.com\n"
    "Accept: application/sdp\n"
    "CSeq: 3923239 OPTIONS\n"
    "l: 0\n\n")

# 3.1.2.16: a protocol version nobody knows.
RFC4475["badvers"] = crlf(
    "OPTIONS sip:t.watson@example.org SIP/7.0\n"
    "Via: SIP/7.0/UDP c.example.com;branch=z9hG4bKbadvers\n"
    "Max-Forwards: 70\n"
    "From: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\n"
    "To: T. Watson <sip:t.watson@example.org>\n"
    "Call-ID: badvers.31417@c.example.com\n"
    "CSeq: 1 OPTIONS\n"
    "l: 0\n\n")

# 3.1.2.17: the start line's method and the CSeq's method differ.
RFC4475["mismatch01"] = crlf(
    "OPTIONS sip:user@example.com SIP/2.0\n"
    "To: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=34525\n"
    "Max-Forwards: 6\n"
    "Call-ID: mismatch01.dfsjdsfsdjfsdfs\n"
    "CSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKmismatch01\n"
    "l: 0\n\n")

# 3.1.2.18: an unknown method, and a CSeq naming another one.
RFC4475["mismatch02"] = crlf(
    "NEWMETHOD sip:user@example.com SIP/2.0\n"
    "To: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=34525\n"
    "Max-Forwards: 6\n"
    "Call-ID: mismatch02.dfsjdsfsdjfsdfs\n"
    "CSeq: 8 INVITE\n"
    "Contact: <sip:caller@host.example.net>\n"
    "Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKmismatch02\n"
    "Content-Type: application/sdp\n"
    "l: 0\n\n")

# 3.1.2.19: a response code far beyond three digits.
RFC4475["bigcode"] = crlf(
    "SIP/2.0 4294967301 better not break the receiver\n"
    "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bKbigcode\n"
    "Call-ID: bigcode.asdfnndfsnkjh39\n"
    "CSeq: 1 INVITE\n"
    "From: <sip:user@example.com>;tag=39ansfi3\n"
    "To: <sip:user@example.edu>;tag=902jndnke3\n"
    "Content-Length: 0\n\n")

# --- 3.2 transaction layer ------------------------------------------------------------------

# 3.2.1: a branch parameter without the RFC 3261 magic cookie.
RFC4475["badbranch"] = with_body(
    "OPTIONS sip:user@example.com SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:caller@example.org;tag=33242\n"
    "Max-Forwards: 3\n"
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK\n"
    "Via: SIP/2.0/UDP 192.0.2.2;branch=1234\n"
    "Accept: application/sdp\n"
    "Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n\n"
    "CSeq: 8 OPTIONS\n", "")

# --- 3.3 application layer ------------------------------------------------------------------

# 3.3.1: required headers missing (no Call-ID, From, To, Max-Forwards).
RFC4475["insuf"] = crlf(
    "INVITE sip:user@example.com SIP/2.0\n"
    "CSeq: 193942 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKinsuf\n"
    "Content-Type: application/sdp\n"
    "l: 0\n\n")

# 3.3.2: a Request-URI with a scheme nobody knows.
RFC4475["unkscm"] = crlf(
    "OPTIONS nobodyknowsthisscheme:totallyopaquecontent SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=384\n"
    "Max-Forwards: 3\n"
    "Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34\n"
    "CSeq: 3923423 OPTIONS\n"
    "Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKunkscm\n"
    "Content-Length: 0\n\n")

# 3.3.3: a Request-URI with a known but unusual scheme.
RFC4475["novelsc"] = crlf(
    "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=384\n"
    "Max-Forwards: 3\n"
    "Call-ID: novelsc.asdfasser0q239nwsdfasdkl34\n"
    "CSeq: 3923423 OPTIONS\n"
    "Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKnovelsc\n"
    "Content-Length: 0\n\n")

# 3.3.4: unknown URI schemes in To, From and Contact.
RFC4475["unksm2"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "To: isbn:2983792873\n"
    "From: <http://www.example.com>;tag=3234233\n"
    "Call-ID: unksm2.daksdj@example.com\n"
    "CSeq: 234902 REGISTER\n"
    "Max-Forwards: 70\n"
    "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKunksm2\n"
    "Contact: <name:John_Smith>\n"
    "l: 0\n\n")

# 3.3.5: Proxy-Require and Require naming extensions nobody supports.
RFC4475["bext01"] = crlf(
    "OPTIONS sip:user@example.com SIP/2.0\n"
    "To: sip:j_user@example.com\n"
    "From: sip:caller@example.net;tag=242etr\n"
    "Max-Forwards: 6\n"
    "Call-ID: bext01.0ha0isndaksdj\n"
    "Require: nothingSupportsThis, nothingSupportsThisEither\n"
    "Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis\n"
    "CSeq: 8 OPTIONS\n"
    "Via: SIP/2.0/TLS fold-and-staple.example.com;branch=z9hG4bKbext01\n"
    "Content-Length: 0\n\n")

# 3.3.6: an INVITE whose body has an unknown Content-Type.
RFC4475["invut"] = with_body(
    "INVITE sip:user@example.com SIP/2.0\n"
    "Contact: <sip:caller@host5.example.net>\n"
    "To: sip:j.user@example.com\n"
    "From: sip:caller@example.net;tag=8392034\n"
    "Max-Forwards: 70\n"
    "Call-ID: invut.0ha0isndaksdjadsfij34n23d\n"
    "CSeq: 235448 INVITE\n"
    "Via: SIP/2.0/UDP somehost.example.com;branch=z9hG4bKinvut\n"
    "Content-Type: application/unknownformat\n",
    "<audio>\n <pcmu port=\"443\"/>\n</audio>\n")

# 3.3.7: an Authorization header with a scheme nobody knows.
RFC4475["regaut01"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "To: sip:j.user@example.com\n"
    "From: sip:j.user@example.com;tag=87321hj23128\n"
    "Max-Forwards: 8\n"
    "Call-ID: regaut01.0ha0isndaksdj\n"
    "CSeq: 9338 REGISTER\n"
    "Via: SIP/2.0/TCP 192.0.2.253;branch=z9hG4bKregaut01\n"
    "Authorization: NoOneKnowsThisScheme opaque-data=here\n"
    "Content-Length: 0\n\n")

# 3.3.8: more than one value in fields that take exactly one.
RFC4475["multi01"] = with_body(
    "INVITE sip:user@company.com SIP/2.0\n"
    "Contact: <sip:caller@host25.example.net>\n"
    "Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKmulti01\n"
    "Max-Forwards: 70\n"
    "CSeq: 5 INVITE\n"
    "Call-ID: multi01.98asdh@192.0.2.1\n"
    "CSeq: 59 INVITE\n"
    "Call-ID: multi01.98asdh@192.0.2.2\n"
    "From: sip:caller@example.com;tag=3413415\n"
    "To: sip:user@example.com\n"
    "To: sip:other@example.net\n"
    "From: sip:caller@example.net;tag=2923420123\n"
    "Content-Type: application/sdp\n"
    "l: 154\n"
    "Max-Forwards: 5\n", SDP4)

# 3.3.9: two Content-Length headers that disagree.
RFC4475["mcl01"] = crlf(
    "OPTIONS sip:user@example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKmcl01\n"
    "Max-Forwards: 70\n"
    "From: \"Caller\" <sip:caller@example.net>;tag=93942939o2\n"
    "To: <sip:user@example.com>\n"
    "Call-ID: mcl01.0ha0isndaksdjweiafasdk3\n"
    "CSeq: 8 OPTIONS\n"
    "Content-Length: 0\n"
    "Content-Length: 11\n"
    "l: 13\n\n"
    "hello world")

# 3.3.10: a 200 OK whose Via names the broadcast address in maddr.
RFC4475["bcast"] = crlf(
    "SIP/2.0 200 OK\n"
    "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bKbcast;maddr=255.255.255.255;received=192.0.2.198\n"
    "Via: SIP/2.0/UDP 192.0.2.199;branch=z9hG4bKbcast2\n"
    "Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf\n"
    "CSeq: 35 INVITE\n"
    "From: sip:user@example.com;tag=11141343\n"
    "To: sip:user@example.edu;tag=2229\n"
    "Content-Length: 154\n"
    "Content-Type: application/sdp\n"
    "Contact: <sip:user@192.0.2.198>\n\n" + SDP4)

# 3.3.11: Max-Forwards of zero.
RFC4475["zeromf"] = crlf(
    "OPTIONS sip:user@example.com SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:caller@example.net;tag=3ghsd41\n"
    "Call-ID: zeromf.0ha0isnda977644900765@192.0.2.15\n"
    "CSeq: 1 OPTIONS\n"
    "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKzeromf\n"
    "Max-Forwards: 0\n"
    "Content-Length: 0\n\n")

# 3.3.12: a REGISTER Contact with URI and header parameters of its own.
RFC4475["cparam01"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKcparam01\n"
    "Max-Forwards: 70\n"
    "From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe\n"
    "To: sip:watson@example.com\n"
    "Call-ID: cparam01.70710@saturn.example.com\n"
    "CSeq: 2 REGISTER\n"
    "Contact: sip:+19725552222@gw1.example.net;unknownparam\n"
    "l: 0\n\n")

# 3.3.13: a REGISTER Contact whose user=phone belongs to the header, not the URI.
RFC4475["cparam02"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKcparam02\n"
    "Max-Forwards: 70\n"
    "From: sip:watson@example.com;tag=838293\n"
    "To: sip:watson@example.com\n"
    "Call-ID: cparam02.70710@saturn.example.com\n"
    "CSeq: 3 REGISTER\n"
    "Contact: <sip:+19725552222@gw1.example.net;unknownparam>;unknownheaderparam\n"
    "l: 0\n\n")

# 3.3.14: a REGISTER Contact URI carrying an escaped Route header.
RFC4475["regescrt"] = crlf(
    "REGISTER sip:example.com SIP/2.0\n"
    "To: sip:user@example.com\n"
    "From: sip:user@example.com;tag=8\n"
    "Max-Forwards: 70\n"
    "Call-ID: regescrt.k345asrl3fdbv@192.0.2.1\n"
    "CSeq: 14398234 REGISTER\n"
    "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKregescrt\n"
    "M: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>\n"
    "L:0\n\n")

# 3.3.15: an INVITE with an SDP offer whose Accept names only an unknown type.
RFC4475["sdp01"] = with_body(
    "INVITE sip:user@example.com SIP/2.0\n"
    "To: sip:j_user@example.com\n"
    "Contact: <sip:caller@host15.example.net>\n"
    "From: sip:caller@example.net;tag=234\n"
    "Max-Forwards: 5\n"
    "Call-ID: sdp01.ndaksdj9342dasdd\n"
    "Accept: text/nobodyknowsthis\n"
    "CSeq: 8 INVITE\n"
    "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKsdp01\n"
    "Content-Type: application/sdp\n", SDP4)

# --- 3.4 backward compatibility -------------------------------------------------------------

# 3.4.1: an INVITE in RFC 2543 style: no branch cookie, no Max-Forwards.
RFC4475["inv2543"] = with_body(
    "INVITE sip:UserB@example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP iftgw.example.com\n"
    "From: <sip:+13035551111@ift.client.example.net;user=phone>\n"
    "Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>\n"
    "To: sip:+16505552222@ss1.example.net;user=phone\n"
    "Call-ID: inv2543.1717@ift.client.example.com\n"
    "CSeq: 56 INVITE\n"
    "Content-Type: application/sdp\n", SDP4)

assert len(RFC4475) == 49, len(RFC4475)

# --- RFC 5118: IPv6 -----------------------------------------------------------------------

SDP6 = """v=0
o=assistant 971731711378798081 0 IN IP6 2001:db8::17
s=-
c=IN IP6 2001:db8::17
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""


def _reg6(ruri, via_host, name, extra=""):
    return crlf(
        "REGISTER %s SIP/2.0\n"
        "To: <sip:user@example.com>\n"
        "From: <sip:user@example.com>;tag=81x2\n"
        "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s\n"
        "Call-ID: %s.SSG9559905523997077@hlau_4100\n"
        "Max-Forwards: 70\n"
        "Contact: \"Caller\" <sip:caller@[2001:db8::9:1]>\n"
        "%s"
        "CSeq: 98176 REGISTER\n"
        "Content-Length: 0\n\n" % (ruri, via_host, name, name, extra))


RFC5118 = {
    # 4.1: an IPv6 reference in brackets in the Request-URI and Via.
    "ipv6_good": _reg6("sip:[2001:db8::10]", "[2001:db8::9:1]", "ipv6good"),
    # 4.2: the same without brackets (invalid).
    "ipv6_bad": _reg6("sip:2001:db8::10", "2001:db8::9:1", "ipv6bad"),
    # 4.3: a port that could be the address's last group ([2001:db8::10:5070]).
    "port_ambiguous": _reg6("sip:[2001:db8::10:5070]", "[2001:db8::9:1]", "portamb"),
    # 4.4: the port outside the brackets.
    "port_unambiguous": _reg6("sip:[2001:db8::10]:5070", "[2001:db8::9:1]", "portunamb"),
    # 4.5: Via received= with brackets and without.
    "via_received_brackets": crlf(
        "BYE sip:[2001:db8::10] SIP/2.0\n"
        "To: <sip:user@example.com>;tag=bd76ya\n"
        "From: sip:user@example.net;tag=81x2\n"
        "Via: SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111\n"
        "Call-ID: viarb.G9559905523997077@hlau_4100\n"
        "Max-Forwards: 70\n"
        "CSeq: 321 BYE\n"
        "Content-Length: 0\n\n"),
    "via_received_nobrackets": crlf(
        "OPTIONS sip:[2001:db8::10] SIP/2.0\n"
        "To: <sip:user@example.com>\n"
        "From: sip:user@example.net;tag=81x2\n"
        "Via: SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3\n"
        "Call-ID: viarnb.G9559905523997077@hlau_4100\n"
        "Max-Forwards: 70\n"
        "CSeq: 921 OPTIONS\n"
        "Content-Length: 0\n\n"),
    # 4.6: an INVITE with IPv6 in the SDP's o= and c= lines.
    "sdp_ipv6": with_body(
        "INVITE sip:user@[2001:db8::10] SIP/2.0\n"
        "To: sip:user@[2001:db8::10]\n"
        "From: sip:user@example.com;tag=81x2\n"
        "Via: SIP/2.0/UDP [2001:db8::20];branch=z9hG4bKsdp6\n"
        "Call-ID: sdp6.SSG9559905523997077@hlau_4100\n"
        "Contact: \"Caller\" <sip:caller@[2001:db8::20]>\n"
        "CSeq: 8612 INVITE\n"
        "Max-Forwards: 70\n"
        "Content-Type: application/sdp\n", SDP6),
    # 4.7: IPv4 and IPv6 addresses in Via headers of one message.
    "mult_ip_in_header": crlf(
        "BYE sip:user@host.example.net SIP/2.0\n"
        "Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144\n"
        "Via: SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200\n"
        "Call-ID: multip.997077@lau_4100\n"
        "Max-Forwards: 70\n"
        "CSeq: 89187 BYE\n"
        "To: sip:user@example.net;tag=9817--94\n"
        "From: sip:user@example.com;tag=81x2\n"
        "Content-Length: 0\n\n"),
    # 4.8: IPv4 at session level, IPv6 and IPv4 in two media streams.
    "mult_ip_in_sdp": with_body(
        "INVITE sip:user@[2001:db8::10] SIP/2.0\n"
        "To: sip:user@[2001:db8::10]\n"
        "From: sip:user@example.com;tag=81x2\n"
        "Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKmultsdp\n"
        "Call-ID: multsdp.1@[2001:db8::9:1]\n"
        "Contact: \"Caller\" <sip:caller@[2001:db8::9:1]>\n"
        "CSeq: 6731 INVITE\n"
        "Max-Forwards: 70\n"
        "Content-Type: application/sdp\n",
        "v=0\n"
        "o=bob 280744730 28977631 IN IP4 host.example.com\n"
        "s=\n"
        "t=0 0\n"
        "m=audio 22334 RTP/AVP 0\n"
        "c=IN IP4 192.0.2.1\n"
        "m=video 6024 RTP/AVP 107\n"
        "c=IN IP6 2001:db8::1\n"
        "a=rtpmap:107 H263-1998/90000\n"),
    # 4.9: IPv4-mapped IPv6 addresses in Via, Contact and SDP.
    "ipv4_mapped": with_body(
        "INVITE sip:user@example.com SIP/2.0\n"
        "To: sip:user@example.com\n"
        "From: sip:user@east.example.com;tag=81x2\n"
        "Via: SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbaf\n"
        "Call-ID: v4m.SSG9559905523997077@hlau_4100\n"
        "Contact: \"T. desk phone\" <sip:ted@[::ffff:192.0.2.10]:19823>\n"
        "CSeq: 612 INVITE\n"
        "Max-Forwards: 70\n"
        "Content-Type: application/sdp\n",
        "v=0\n"
        "o=assistant 971731711378798081 0 IN IP6 ::ffff:192.0.2.10\n"
        "s=Live video feed for today's meeting\n"
        "c=IN IP6 ::ffff:192.0.2.10\n"
        "t=3338481189 3370017201\n"
        "m=audio 6000 RTP/AVP 2\n"
        "a=rtpmap:2 G726-32/8000\n"),
    # 4.10: IPv6 references with an embedded IPv4 part, well formed and with an extra colon.
    "ipv6_ipv4_good": _reg6("sip:[2001:db8::192.0.2.1]", "[2001:db8::192.0.2.1]", "v6v4good"),
    "ipv6_excess_colon": _reg6("sip:[2001:db8:::192.0.2.1]", "[2001:db8:::192.0.2.1]",
                               "v6colon"),
}
assert len(RFC5118) == 12, len(RFC5118)

# --- ringbridge's own: filter rules, evasions, broken text ------------------------------------


def invite(from_hdr, call_id, extra="", ruri="sip:+4930555000@pbx.example.net",
           version="SIP/2.0", sdp=True, to_tag=""):
    head = ("INVITE %s %s\n"
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK%s\n"
            "Max-Forwards: 70\n"
            "From: %s\n"
            "To: <sip:+4930555000@pbx.example.net>%s\n"
            "Call-ID: %s\n"
            "CSeq: 1 INVITE\n"
            "Contact: <sip:caller@192.0.2.10:5060>\n"
            "%s" % (ruri, version, call_id[:12], from_hdr, to_tag, call_id, extra))
    if sdp:
        return with_body(head + "Content-Type: application/sdp\n", SDP4)
    return with_body(head, "")


def request(method, call_id, from_tag, cseq_method=None, to_tag=""):
    return crlf(
        "%s sip:+4930555000@pbx.example.net SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK%s\n"
        "Max-Forwards: 70\n"
        "From: <sip:+49301234567@carrier.example.com>;tag=%s\n"
        "To: <sip:+4930555000@pbx.example.net>%s\n"
        "Call-ID: %s\n"
        "CSeq: 1 %s\n"
        "Content-Length: 0\n\n" % (method, call_id[:10], from_tag, to_tag, call_id,
                                   cseq_method or method))


def response(code, reason, call_id, from_tag, to_tag="srv1", sdp=False, cseq="1 INVITE"):
    head = ("SIP/2.0 %d %s\n"
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK%s\n"
            "From: <sip:+49301234567@carrier.example.com>;tag=%s\n"
            "To: <sip:+4930555000@pbx.example.net>;tag=%s\n"
            "Call-ID: %s\n"
            "CSeq: %s\n"
            "Contact: <sip:phone@198.51.100.20:5060>\n" % (code, reason, call_id[:12], from_tag,
                                                          to_tag, call_id, cseq))
    if sdp:
        return with_body(head + "Content-Type: application/sdp\n",
                         SDP4.replace("192.0.2.10", "198.51.100.20").replace("49170", "30000"))
    return with_body(head, "")


OWN = {
    # Filter rules of the frame target (frame_fuzz.cc): exact +49301234567 busy, through PAI.
    "block_exact_pai": invite("\"Carrier\" <sip:gw@carrier.example.com>;tag=f1",
                              "blk-exact-1@192.0.2.10",
                              "P-Asserted-Identity: \"Mallory\" <sip:+49301234567@carrier.example.com>\n"),
    # The same number in national form in From: 030... with country 49, trunk 0.
    "block_national_from": invite("<sip:0301234567@carrier.example.com>;tag=f2", "blk-nat-2@h"),
    # 00 international prefix, %-escaped digits, visual separators.
    "block_intl_escaped": invite("<sip:0049-30-%31234567@carrier.example.com>;tag=f3",
                                 "blk-intl-3@h"),
    # +49900 premium prefix: decline.
    "block_prefix_tel": invite("<tel:+49900123456>;tag=f4", "blk-prefix-4@h"),
    # A display name with "spam" in it (case-insensitive): busy.
    "block_name_spam": invite("\"Totally Not SPAM Inc\" <sip:+12025550123@example.com>;tag=f5",
                              "blk-name-5@h"),
    # Anonymous callers: decline.
    "block_anonymous": invite("\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=f6",
                              "blk-anon-6@h"),
    "block_privacy_id": invite("<sip:+12025550199@example.com>;tag=f7", "blk-priv-7@h",
                               "Privacy: id\n"),
    "block_rpid_privacy": invite("<sip:unknown@example.com>;tag=f8", "blk-rpid-8@h",
                                 "Remote-Party-ID: \"Hidden\" <sip:+12025550111@example.com>;party=calling;privacy=full;screen=yes\n"),
    # +15551234567: silently dropped.
    "block_drop_us": invite("<sip:+15551234567@example.com>;tag=f9", "blk-drop-9@h"),
    # Allowed (+4477 glob) and recorded (+33 regex) callers.
    "allow_uk": invite("\"Friend\" <sip:+447700900123@example.co.uk>;tag=fa", "allow-a@h"),
    "record_fr": invite("<sip:+33123456789@example.fr>;tag=fb", "record-b@h"),
    # Regression: a blocked INVITE without a From tag (an empty view with no data went to
    # memcpy in blocked_identity(); UBSan in the frame target).
    "block_no_from_tag": invite("<sip:+49301234567@carrier.example.com>", "blk-notag@h"),
    # The blocked call's CANCEL and ACK (same Call-ID and From tag), and a re-INVITE.
    "cancel_blocked": request("CANCEL", "blk-exact-1@192.0.2.10", "f1"),
    "ack_blocked": request("ACK", "blk-exact-1@192.0.2.10", "f1", to_tag=";tag=abc"),
    "bye": request("BYE", "call-ok-1@h", "f1", to_tag=";tag=srv1"),
    "ringing": response(180, "Ringing", "call-ok-1@h", "f1"),
    "ok_sdp": response(200, "OK", "call-ok-1@h", "f1", sdp=True),
    # Evasions the screening must not fall for.
    "evade_long_ruri": invite("<sip:+49301234567@carrier.example.com>;tag=fc", "evade-long@h",
                              ruri="sip:" + "9" * 400 + "@pbx.example.net"),
    "evade_lower_version": invite("<sip:+49301234567@carrier.example.com>;tag=fd",
                                  "evade-lower@h", version="sip/2.0"),
    "evade_leading_crlf": "\r\n\r\n" + invite("<sip:+49301234567@carrier.example.com>;tag=fe",
                                              "evade-crlf@h"),
    "evade_tabs": invite("<sip:+49301234567@carrier.example.com>;tag=ff", "evade-tabs@h",
                         ruri="\tsip:+4930555000@pbx.example.net\t"),
    "evade_compact": crlf(
        "INVITE sip:+4930555000@pbx.example.net SIP/2.0\n"
        "v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKcompact\n"
        "f: <sip:+49301234567@carrier.example.com>;tag=cc\n"
        "t: <sip:+4930555000@pbx.example.net>\n"
        "i: evade-compact@h\n"
        "CSeq: 1 INVITE\n"
        "l: 0\n\n"),
    "evade_folded_from": crlf(
        "INVITE sip:+4930555000@pbx.example.net SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKfold\n"
        "From:\n \"Mal\n lory\"\n\t<sip:+49301234567@carrier.example.com>\n ;tag=fold\n"
        "To: <sip:+4930555000@pbx.example.net>\n"
        "Call-ID: evade-fold@h\n"
        "CSeq: 1 INVITE\n"
        "Content-Length: 0\n\n"),
    # Text that is not UTF-8, or is cut mid-character at 48 bytes.
    "utf8_invalid_name": invite("\"\xff\xfe bad \xc3\" <sip:%FF%FE@example.com>;tag=u1",
                                "utf8-bad@h"),
    "utf8_long_cyrillic": invite(
        "\"\xd0\x90\xd0\xbb\xd0\xb5\xd0\xba\xd1\x81\xd0\xb0\xd0\xbd\xd0\xb4\xd1\x80 "
        "\xd0\x92\xd0\xbb\xd0\xb0\xd0\xb4\xd0\xb8\xd0\xbc\xd0\xb8\xd1\x80\xd0\xbe\xd0\xb2"
        "\xd0\xb8\xd1\x87 \xd0\x9a\xd0\xbe\xd0\xbd\xd1\x81\xd1\x82\xd0\xb0\xd0\xbd\xd1\x82"
        "\xd0\xb8\xd0\xbd\xd0\xbe\xd0\xb2\" <sip:+79161234567@example.ru>;tag=u2",
        "utf8-long@h"),
    "bare_lf_lf": "INVITE sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKlf\nFrom: <sip:+49301234567@c>;tag=lf\nTo: <sip:a@b>\nCall-ID: lf@h\nCSeq: 1 INVITE\nContent-Length: 0\n\n",
    "long_call_id": invite("<sip:+49301234567@carrier.example.com>;tag=lc",
                           "long-" + "c" * 300 + "@h"),
}
