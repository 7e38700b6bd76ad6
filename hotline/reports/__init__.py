"""Call-centre reports: pure figures from finished calls' facts (no I/O).

`facts` reads one call's facts from its `ended` event, `figures` adds them up by hour, day,
queue and seat, `staffing` turns a load into seats needed (Erlang C), `charts` draws SVG and
`tables` lays the figures out as rows for the page and for CSV.
"""
