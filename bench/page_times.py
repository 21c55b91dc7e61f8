# Used by bench/page-times.sh.
# A/B page times: signs in to two demos as the CDAO and alternates requests between them.
import sys, json, time, hmac, hashlib, struct, base64, http.client, urllib.parse, random
def totp(secret):
    key = base64.b32decode(secret + '=' * (-len(secret) % 8))
    msg = struct.pack('>Q', int(time.time()) // 30)
    h = hmac.new(key, msg, hashlib.sha1).digest(); o = h[-1] & 15
    return '%06d' % ((struct.unpack('>I', h[o:o+4])[0] & 0x7fffffff) % 1000000)
class Client:
    def __init__(self, base_dir, port):
        self.port=port; self.conn=http.client.HTTPConnection('127.0.0.1', port); self.cookies={}
        c=[c for c in json.load(open(f"{base_dir}/demo-credentials.json")) if c['email'].startswith('cdao@')][0]
        s, loc, _ = self.req('POST', '/sign-in', {'email': c['email'], 'password': c['password'], 'next': '/'})
        self.req('GET', loc)
        self.req('POST', '/sign-in/mfa', {'next': '/', 'code': totp(c['totp_secret'])})
        s,loc,_=self.req('GET','/'); assert s==200,(s,loc)
    def req(self, method, path, body=None):
        headers = {'Cookie': '; '.join(f'{k}={v}' for k, v in self.cookies.items()), 'Origin': f'http://127.0.0.1:{self.port}', 'Sec-Fetch-Site': 'same-origin'}
        if body is not None:
            body = urllib.parse.urlencode(body); headers['Content-Type'] = 'application/x-www-form-urlencoded'
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse(); data = r.read()
        for k, v in r.getheaders():
            if k.lower() == 'set-cookie':
                n, val = v.split(';')[0].split('=', 1); self.cookies[n] = val
        return r.status, r.getheader('Location'), data
a=Client(sys.argv[1], int(sys.argv[2])); b=Client(sys.argv[3], int(sys.argv[4]))
n=int(sys.argv[5]) if len(sys.argv)>5 else 500
paths=['/','/cases']
for c in (a,b):
    for p in paths:
        for _ in range(30): c.req('GET',p)
res={(k,p):[] for k in 'ab' for p in paths}
for i in range(n):
    for p in paths:
        order=[('a',a),('b',b)]; random.shuffle(order)
        for k,c in order:
            t=time.perf_counter(); st,_,_=c.req('GET',p); res[(k,p)].append((time.perf_counter()-t)*1000); assert st==200
for p in paths:
    xa=sorted(res[('a',p)]); xb=sorted(res[('b',p)])
    pa=xa[len(xa)//2]; pb=xb[len(xb)//2]
    print(f"{p}: before p50 {pa:.2f} ms, after p50 {pb:.2f} ms, ratio {pb/pa:.2f}")
